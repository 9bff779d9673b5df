"""The process's one `hub`: members join and leave groups through it, and every group message is
published through it, to the local members and to the other processes.

Publishing is thread-safe: services publish from the database thread after a commit; the
delivery itself always runs on the event loop (`widget.fanout.delivery`), in publish order. The
hub binds to the event loop of the first socket of the process, and starts the delivery task and
the transport there.
"""

import asyncio
import logging
import uuid

from core import metrics
from core.logging import Occasional
from widget.fanout import drain
from widget.fanout.delivery import Delivery
from widget.fanout.envelope import Envelope, UndecodableEnvelope
from widget.fanout.members import Member, Registry
from widget.fanout.transport import (
    FanoutUnavailable,
    LocalTransport,
    RedisTransport,
    transport_for,
)

log = logging.getLogger(__name__)
# Undecodable messages from Redis are logged at most once a minute (with their count).
UNDECODABLE_LOG_SECONDS = 60


class Hub:
    """This process's members of groups, their delivery, and the transport to other processes."""

    def __init__(self) -> None:
        self.origin = uuid.uuid4().hex[:16]
        self.registry = Registry()
        self.delivery = Delivery(self.registry)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._transport: LocalTransport | RedisTransport | None = None
        self._undecodable = Occasional(UNDECODABLE_LOG_SECONDS)

    @property
    def transport(self) -> LocalTransport | RedisTransport:
        if self._transport is None:
            self._transport = transport_for(self)
        return self._transport

    @property
    def running(self) -> bool:
        """Whether a socket has bound the hub to an event loop (so it may have members)."""
        return self._loop is not None

    def _bind(self) -> None:
        """Start the workers on the running loop (the first socket of this process)."""
        loop = asyncio.get_running_loop()
        if self._loop is loop:
            return
        # A different loop means the previous one is gone (a test's loop): its members,
        # tasks and connections went with it.
        self.registry.clear()
        self._transport = None
        self._loop = loop
        self.delivery.start(loop)
        self.transport.start()

    def check_live(self) -> None:
        """For /readyz (on an HTTP thread): raise unless a socket of this process joining now
        would get its room's frames from other processes. With Redis: the subscription is
        established, or, before this process's first socket started it, Redis answers."""
        transport = self.transport
        if isinstance(transport, LocalTransport):
            return
        if self.running:
            if not transport.live:
                raise FanoutUnavailable("no Redis subscription")
            return
        transport.redis_sync().ping()

    async def join(self, group: str, member: Member) -> None:
        self._bind()
        if self.registry.add(group, member):
            await self.transport.subscribe(group)
        # Even for a group already subscribed: after a loss of Redis, every member waits for the
        # subscription to be back before it reads the room (raises FanoutUnavailable past a bound).
        await self.transport.wait_live()

    async def leave(self, group: str, member: Member) -> None:
        if self.registry.remove(group, member):
            await self.transport.unsubscribe(group)

    def publish(self, envelope: Envelope) -> None:
        """Deliver to the group's members everywhere. Callable from any thread."""
        loop = self._loop
        if loop is not None and loop.is_running():
            try:
                running = asyncio.get_running_loop()
            except RuntimeError:
                running = None
            if running is loop:
                self._publish_here(envelope)
            else:
                loop.call_soon_threadsafe(self._publish_here, envelope)
            return
        # No socket has run in this process yet, so no local member: other processes only.
        self.transport.publish_sync(envelope)

    def _publish_here(self, envelope: Envelope) -> None:
        self.delivery.queue(envelope)
        self.transport.publish(envelope)

    def receive_remote(self, group: str, data: bytes) -> None:
        """A group message from Redis: deliver it here unless this process published it.

        One that cannot be decoded is skipped, counted and logged: it is not a sign that the
        subscription is lost, and treating it as one would close every socket of the process
        for one stray publish (anyone who can reach Redis, or a bug)."""
        try:
            origin, envelope = Envelope.decode(group, data)
        except UndecodableEnvelope as error:
            metrics.FANOUT_UNDECODABLE.inc()
            if skipped := self._undecodable.happened():
                log.warning(
                    "fan-out: skipped %d undecodable message(s) from Redis, the latest on %s "
                    "(%s): %r",
                    skipped,
                    group,
                    error,
                    data[:64],
                )
            return
        if origin != self.origin:
            self.delivery.queue(envelope)

    async def close_all(self, code: int) -> None:
        """Close every socket of this process with `code` (1012 to drain before a restart)."""
        await self.delivery.close_all(code)

    async def aclose(self) -> None:
        """Stop the workers (tests, between event loops)."""
        await self.delivery.stop()
        if self._transport is not None:
            await self._transport.stop()
        self.registry.clear()
        self._transport = None
        self._loop = None


hub = Hub()
drain.register(hub)
