"""Real-time fan-out: who listens to which group in this process, and one publish per group
message across processes.

Why not the channel layer: its group_send puts one copy of every message on one queue per member,
and each consumer then takes it off, runs a task and serializes it: per recipient. Here a group
message is serialized once (by `widget.events`), handed to this process's members of the group
in one pass (`Member.push` writes the same text to each socket), and published once to Redis
(`PARLEY_FANOUT=redis`), where every other process subscribed to that group does the same for its
own members. With `PARLEY_FANOUT=local` (a single process, the tests) nothing leaves the process.

Nothing is dropped silently: if Redis cannot be reached, this process closes its sockets with
1011 so their clients reconnect and resume from the database (`since`), and publishes that cannot
be delivered after retries are logged as errors.

Publishing is thread-safe: services publish from the database thread after a commit; the
delivery itself always runs on the event loop, in publish order, by one worker task.
"""

import asyncio
import contextlib
import dataclasses
import logging
import time
import uuid
from collections import defaultdict, deque
from typing import Protocol

import redis
import redis.asyncio as aredis
from django.conf import settings

from core import drain, metrics
from core.redis_config import parse_redis_url

log = logging.getLogger(__name__)

FRAME = b"f"
CLOSE = b"c"
REDIS_PREFIX = "parley:fanout:"
PUBLISH_BATCH = 500
PUBLISH_ATTEMPTS = 4
DRAIN_FLUSH_SECONDS = 0.5
# How long a socket joining a group waits for this process's Redis subscription (after a loss,
# until Redis is back): past it the socket is closed with 1011 and its client tries again.
SUBSCRIPTION_WAIT_SECONDS = 5


class FanoutUnavailable(Exception):
    """This process has no live Redis subscription: a new member would miss frames."""


class Member(Protocol):
    """A socket listening to groups (the consumers)."""

    member_id: str

    async def push(self, text: str, message_id: int, frame_type: str) -> None:
        """Write a serialized frame to the socket (must not wait on the network)."""

    async def close_from_server(self, code: int) -> None: ...


@dataclasses.dataclass(frozen=True, slots=True)
class Envelope:
    """One group message: a serialized frame for every member, or an order to close them."""

    group: str
    kind: bytes
    body: str
    exclude: str = ""  # a member id that does not receive it ("to the other members")
    message_id: int = 0  # the stored message it carries, if any (deduplication on resume)
    frame_type: str = ""  # the frame's `type` (metrics)
    # When it was published (wall clock, so comparable across processes): parley_fanout_seconds.
    published_at: float = dataclasses.field(default_factory=time.time)

    def encode(self, origin: str) -> bytes:
        header = b"|".join(
            [
                origin.encode(),
                self.kind,
                self.exclude.encode(),
                str(self.message_id).encode(),
                self.frame_type.encode(),
                repr(self.published_at).encode(),
            ]
        )
        return header + b"|" + self.body.encode()

    @classmethod
    def decode(cls, group: str, data: bytes) -> tuple[str, "Envelope"]:
        origin, kind, exclude, message_id, frame_type, published_at, body = data.split(b"|", 6)
        envelope = cls(
            group,
            kind,
            body.decode(),
            exclude.decode(),
            int(message_id),
            frame_type.decode(),
            float(published_at),
        )
        return origin.decode(), envelope


class LocalTransport:
    """Single process: every member of every group is in this process."""

    def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass

    async def subscribe(self, group: str) -> None:
        pass

    async def unsubscribe(self, group: str) -> None:
        pass

    async def wait_live(self) -> None:
        pass

    def publish(self, envelope: Envelope) -> None:
        pass

    def publish_sync(self, envelope: Envelope) -> None:
        pass

    def redis_async(self) -> None:
        return None

    def redis_sync(self) -> None:
        return None


class RedisTransport:
    """Across processes: Redis pub/sub, one channel per group with members in some process.

    This process subscribes to a group's channel when its first local member joins and
    unsubscribes when the last one leaves, so a worker only receives what its sockets need.
    Outgoing publishes are batched into pipelines by one task, which also keeps their order.
    """

    def __init__(self, hub: "Hub", url: str):
        self.hub = hub
        self.url = url
        self._sync_client: redis.Redis | None = None
        self._client: aredis.Redis | None = None
        self._pubsub = None
        self._wanted: set[str] = set()
        self._outbox: deque[tuple[str, bytes]] = deque()
        self._outbox_ready: asyncio.Event | None = None
        self._subscription_lock: asyncio.Lock | None = None
        self._live: asyncio.Event | None = None  # set while the subscription is established
        self._tasks: list[asyncio.Task] = []

    def start(self) -> None:
        self._client = parse_redis_url(self.url).async_client(
            max_connections=settings.PARLEY_REDIS_MAX_CONNECTIONS,
            timeout=5,
            socket_connect_timeout=5,
        )
        self._outbox_ready = asyncio.Event()
        self._subscription_lock = asyncio.Lock()
        self._live = asyncio.Event()
        self._tasks = [
            asyncio.create_task(self._publish_forever(), name="fanout-publish"),
            asyncio.create_task(self._read_forever(), name="fanout-read"),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._client is not None:
            with contextlib.suppress(Exception):
                await self._client.aclose()

    def redis_async(self) -> aredis.Redis | None:
        return self._client

    def redis_sync(self) -> redis.Redis:
        if self._sync_client is None:
            self._sync_client = parse_redis_url(self.url).sync_client(
                max_connections=32, timeout=5, socket_timeout=5
            )
        return self._sync_client

    async def subscribe(self, group: str) -> None:
        async with self._subscription_lock:
            self._wanted.add(group)
            if self._pubsub is not None:
                await self._pubsub.subscribe(REDIS_PREFIX + group)

    async def unsubscribe(self, group: str) -> None:
        async with self._subscription_lock:
            self._wanted.discard(group)
            if self._pubsub is not None:
                await self._pubsub.unsubscribe(REDIS_PREFIX + group)

    async def wait_live(self) -> None:
        """Return once this process is subscribed (at once, normally). A member that joined
        without a subscription would read the room and then miss what other workers publish
        until the subscription is back, with nothing to tell its client to resume."""
        if self._live.is_set():
            return
        try:
            await asyncio.wait_for(self._live.wait(), timeout=SUBSCRIPTION_WAIT_SECONDS)
        except TimeoutError:
            raise FanoutUnavailable("no Redis subscription") from None

    def publish(self, envelope: Envelope) -> None:
        self._outbox.append((REDIS_PREFIX + envelope.group, envelope.encode(self.hub.origin)))
        self._outbox_ready.set()

    def publish_sync(self, envelope: Envelope) -> None:
        """For a process whose event loop runs no socket yet (an HTTP-only worker, a command)."""
        self.redis_sync().publish(REDIS_PREFIX + envelope.group, envelope.encode(self.hub.origin))

    async def _publish_forever(self) -> None:
        while True:
            await self._outbox_ready.wait()
            self._outbox_ready.clear()
            while self._outbox:
                count = min(len(self._outbox), PUBLISH_BATCH)
                batch = [self._outbox.popleft() for _ in range(count)]
                self._publishing = True
                try:
                    await self._publish_batch(batch)
                finally:
                    self._publishing = False

    async def flush(self) -> None:
        """Wait until every group message handed to `publish` has gone to Redis (a drain)."""
        while self._outbox or getattr(self, "_publishing", False):
            await asyncio.sleep(0.01)

    async def _publish_batch(self, batch: list[tuple[str, bytes]]) -> None:
        for attempt in range(PUBLISH_ATTEMPTS):
            try:
                async with self._client.pipeline(transaction=False) as pipe:
                    for channel, data in batch:
                        pipe.publish(channel, data)
                    await pipe.execute()
                return
            except (redis.RedisError, OSError) as error:
                metrics.BACKEND_ERRORS.labels("redis").inc()
                log.warning("fan-out publish failed (attempt %d): %s", attempt + 1, error)
                await asyncio.sleep(0.1 * 2**attempt)
        log.error(
            "fan-out: %d group messages not published to Redis; other workers' sockets miss them "
            "live and get them when they resume",
            len(batch),
        )

    async def _read_forever(self) -> None:
        backoff = 0.5
        own_channel = f"{REDIS_PREFIX}process.{self.hub.origin}"
        while True:
            pubsub = self._client.pubsub(ignore_subscribe_messages=True)
            try:
                async with self._subscription_lock:
                    self._pubsub = pubsub
                    channels = [REDIS_PREFIX + group for group in self._wanted]
                    # The process channel keeps the subscription alive when no group is wanted.
                    await pubsub.subscribe(own_channel, *channels)
                    self._live.set()
                backoff = 0.5
                async for item in pubsub.listen():
                    channel = item["channel"].decode()
                    self.hub.receive_remote(channel[len(REDIS_PREFIX) :], item["data"])
            except asyncio.CancelledError:
                raise
            except Exception:
                metrics.BACKEND_ERRORS.labels("redis").inc()
                log.exception("fan-out: lost the Redis subscription")
            finally:
                self._live.clear()
                self._pubsub = None
                with contextlib.suppress(Exception):
                    await pubsub.aclose()
            # Whatever was published while this process was not subscribed never reaches its
            # sockets: close them so their clients reconnect and resume from the database.
            await self.hub.close_all(1011)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 10)


class Hub:
    """This process's registry of group members and the delivery worker."""

    def __init__(self) -> None:
        self.origin = uuid.uuid4().hex[:16]
        self._groups: dict[str, set[Member]] = defaultdict(set)
        self._pending: deque[Envelope] = deque()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pending_ready: asyncio.Event | None = None
        self._worker: asyncio.Task | None = None
        self._transport: LocalTransport | RedisTransport | None = None

    @property
    def transport(self) -> LocalTransport | RedisTransport:
        if self._transport is None:
            if settings.PARLEY_FANOUT == "redis":
                self._transport = RedisTransport(self, settings.REDIS_URL)
            else:
                self._transport = LocalTransport()
        return self._transport

    def _bind(self) -> None:
        """Start the workers on the running loop (the first socket of this process)."""
        loop = asyncio.get_running_loop()
        if self._loop is loop:
            return
        # A different loop means the previous one is gone (a test's loop): its members,
        # tasks and connections went with it.
        self._groups.clear()
        self._pending.clear()
        self._transport = None
        self._loop = loop
        self._pending_ready = asyncio.Event()
        self._worker = loop.create_task(self._deliver_forever(), name="fanout-deliver")
        self.transport.start()

    async def drain(self, close_code: int) -> None:
        """core.drain, when the worker stops (SIGTERM, a deploy): close this worker's sockets
        with 1012 so their clients reconnect at once to another worker."""
        if self._loop is None:
            return
        # First deliver what is waiting here, the writes just flushed among them: a client
        # resumes from the highest id it saw, so a lower id held back past the close would be
        # skipped by its resume.
        while self._pending:
            await asyncio.sleep(0.005)
        await self.close_all(close_code)
        # Let the close frames reach the network before the reactor stops.
        await asyncio.sleep(DRAIN_FLUSH_SECONDS)

    async def join(self, group: str, member: Member) -> None:
        self._bind()
        members = self._groups[group]
        members.add(member)
        if len(members) == 1:
            await self.transport.subscribe(group)
        # Even for a group already subscribed: after a loss of Redis, every member waits for the
        # subscription to be back before it reads the room (raises FanoutUnavailable past a bound).
        await self.transport.wait_live()

    async def leave(self, group: str, member: Member) -> None:
        members = self._groups.get(group)
        if not members or member not in members:
            return
        members.discard(member)
        if not members:
            del self._groups[group]
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
        if envelope.group in self._groups:
            self._pending.append(envelope)
            self._pending_ready.set()
        self.transport.publish(envelope)

    def receive_remote(self, group: str, data: bytes) -> None:
        """A group message from Redis: deliver it here unless this process published it."""
        origin, envelope = Envelope.decode(group, data)
        if origin != self.origin and group in self._groups:
            self._pending.append(envelope)
            self._pending_ready.set()

    async def _deliver_forever(self) -> None:
        while True:
            await self._pending_ready.wait()
            self._pending_ready.clear()
            while self._pending:
                await self._deliver(self._pending.popleft())

    async def _deliver(self, envelope: Envelope) -> None:
        if envelope.kind == FRAME:
            metrics.FANOUT_SECONDS.observe(max(0.0, time.time() - envelope.published_at))
        for member in tuple(self._groups.get(envelope.group, ())):
            if member.member_id == envelope.exclude:
                continue
            try:
                if envelope.kind == FRAME:
                    await member.push(envelope.body, envelope.message_id, envelope.frame_type)
                else:
                    await member.close_from_server(int(envelope.body))
            except Exception:
                log.exception("fan-out: delivery to one socket failed")

    async def close_all(self, code: int) -> None:
        """Close every socket of this process with `code` (1012 to drain before a restart)."""
        members = {member for group in self._groups.values() for member in group}
        for member in members:
            try:
                await member.close_from_server(code)
            except Exception:
                log.exception("fan-out: closing one socket failed")

    async def aclose(self) -> None:
        """Stop the workers (tests, between event loops)."""
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
        if self._transport is not None:
            await self._transport.stop()
        self._groups.clear()
        self._pending.clear()
        self._transport = None
        self._loop = None
        self._worker = None


hub = Hub()


class _Publications:
    """core.drain's last stage: the group messages of the last writes reach Redis before the
    process stops, or sockets of other workers would never see them (they do not resume)."""

    def __init__(self, hub: "Hub"):
        self.hub = hub

    async def drain(self, close_code: int) -> None:
        transport = self.hub._transport
        if self.hub._loop is not None and isinstance(transport, RedisTransport):
            await transport.flush()


drain.register(hub, stage=drain.SOCKETS)
drain.register(_Publications(hub), stage=drain.PUBLICATIONS)
