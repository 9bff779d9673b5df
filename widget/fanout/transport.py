"""How group messages leave this process and reach it from the others: not at all
(`LocalTransport`, a single process) or through Redis pub/sub (`RedisTransport`), chosen by
`PARLEY_FANOUT`.

The Redis transport is the only code here that talks to Redis: the channel of each group, the
subscriptions a worker holds, the batched publishes with their retries, and what happens when
the subscription is lost (every local socket is closed with 1011, so its client resumes from the
database instead of missing frames silently).

What waits to be published (the outbox) is bounded in frames and bytes
(`PARLEY_FANOUT_OUTBOX_FRAMES`, `_BYTES`): while Redis is away or slow, a group message that
finds the outbox full, or that Redis keeps refusing, is dropped from the live path. Its message is
stored already, so nothing is lost for a client that resumes; what must not happen is a socket
on another worker going on without it, unaware. So the group is remembered, and once Redis takes
publishes again, before anything else, every worker is told to close its sockets of that group
with 1011 (their clients resume with `since`). This process's own sockets got the frame already.
"""

import asyncio
import contextlib
import logging
from collections import deque
from typing import Protocol

import redis
import redis.asyncio as aredis
from django.conf import settings

from core import metrics
from core.logging import Occasional
from core.redis_config import parse_redis_url
from widget.fanout.envelope import CLOSE, Envelope

log = logging.getLogger(__name__)

REDIS_PREFIX = "parley:fanout:"
PUBLISH_BATCH = 500
PUBLISH_ATTEMPTS = 4
# The close orders of groups with unpublished frames are retried until Redis takes them, at most
# this long apart.
RESUME_RETRY_MAX_SECONDS = 5
# The close code that makes a client reconnect and resume (PROTOCOL.md, Server closes).
RESUME_CLOSE_CODE = "1011"
# Frames left unpublished are logged at most once per this many seconds (with their count).
DROPPED_LOG_SECONDS = 10
# How long a socket joining a group waits for this process's Redis subscription (after a loss,
# until Redis is back): past it the socket is closed with 1011 and its client tries again.
SUBSCRIPTION_WAIT_SECONDS = 5


class FanoutUnavailable(Exception):
    """This process has no live Redis subscription: a new member would miss frames."""


class Receiver(Protocol):
    """The side of this process that takes what arrives (the hub)."""

    origin: str  # this process, in what it publishes

    def receive_remote(self, group: str, data: bytes) -> None: ...

    async def close_all(self, code: int) -> None: ...


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

    async def flush(self) -> None:
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

    def __init__(self, receiver: Receiver, url: str):
        self.receiver = receiver
        self.url = url
        self._sync_client: redis.Redis | None = None
        self._client: aredis.Redis | None = None
        self._pubsub = None
        self._wanted: set[str] = set()
        self._outbox: deque[tuple[str, bytes]] = deque()  # (group, encoded envelope)
        self._outbox_bytes = 0
        self._outbox_frames_max = settings.PARLEY_FANOUT_OUTBOX_FRAMES
        self._outbox_bytes_max = settings.PARLEY_FANOUT_OUTBOX_BYTES
        self._dropped_log = Occasional(DROPPED_LOG_SECONDS)
        # Groups with a frame that was not published: their sockets elsewhere must resume.
        self._unpublished_groups: set[str] = set()
        self._outbox_ready: asyncio.Event | None = None
        self._publishing = False  # a batch taken off the outbox is on its way to Redis
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
        metrics.FANOUT_OUTBOX_FRAMES.set_function(lambda: len(self._outbox))
        metrics.FANOUT_OUTBOX_BYTES.set_function(lambda: self._outbox_bytes)
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

    @property
    def live(self) -> bool:
        """Whether the subscription is established now (safe to read from any thread)."""
        return self._live is not None and self._live.is_set()

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
        """Queue the group message for Redis; past the outbox's bounds, drop it from the live
        path (its group's sockets elsewhere will be told to resume). On the loop, no I/O."""
        data = envelope.encode(self.receiver.origin)
        if (
            len(self._outbox) >= self._outbox_frames_max
            or self._outbox_bytes + len(data) > self._outbox_bytes_max
        ):
            self._not_published([envelope.group], "the outbox is full")
        else:
            self._outbox.append((envelope.group, data))
            self._outbox_bytes += len(data)
        self._outbox_ready.set()

    def publish_sync(self, envelope: Envelope) -> None:
        """For a process whose event loop runs no socket yet (an HTTP-only worker, a command)."""
        self.redis_sync().publish(
            REDIS_PREFIX + envelope.group, envelope.encode(self.receiver.origin)
        )

    async def flush(self) -> None:
        """Wait until every group message handed to `publish` has gone to Redis, or been
        dropped with its close order sent (a drain)."""
        while self._outbox or self._publishing or self._unpublished_groups:
            await asyncio.sleep(0.01)

    def _not_published(self, groups: list[str], why: str) -> None:
        """Frames of these groups will never reach the other workers: remember the groups, so
        their sockets there are closed to resume."""
        metrics.FANOUT_UNPUBLISHED.inc(len(groups))
        self._unpublished_groups.update(groups)
        if dropped := self._dropped_log.happened(len(groups)):
            log.error(
                "fan-out: %d group message(s) not published to Redis (%s); the sockets of their "
                "groups on other workers will be closed (1011) to resume",
                dropped,
                why,
            )

    async def _publish_forever(self) -> None:
        while True:
            await self._outbox_ready.wait()
            self._outbox_ready.clear()
            while self._unpublished_groups or self._outbox:
                self._publishing = True
                try:
                    # The close orders first: a socket that saw a later frame of its group before
                    # the order would resume from after the frames it missed.
                    if self._unpublished_groups:
                        await self._publish_close_orders()
                    else:
                        await self._publish_batch(self._take_batch())
                finally:
                    self._publishing = False

    def _take_batch(self) -> list[tuple[str, bytes]]:
        count = min(len(self._outbox), PUBLISH_BATCH)
        batch = [self._outbox.popleft() for _ in range(count)]
        self._outbox_bytes -= sum(len(data) for _, data in batch)
        return batch

    async def _publish_batch(self, batch: list[tuple[str, bytes]]) -> None:
        for attempt in range(PUBLISH_ATTEMPTS):
            try:
                await self._publish_now(batch)
                return
            except (redis.RedisError, OSError) as error:
                metrics.BACKEND_ERRORS.labels("redis").inc()
                log.warning("fan-out publish failed (attempt %d): %s", attempt + 1, error)
                await asyncio.sleep(0.1 * 2**attempt)
        self._not_published([group for group, _ in batch], "Redis kept failing")

    async def _publish_close_orders(self) -> None:
        """Tell every worker to close its sockets of the groups with unpublished frames, until
        Redis takes the orders (the frames published meanwhile wait in the bounded outbox)."""
        groups, self._unpublished_groups = self._unpublished_groups, set()
        orders = [
            (group, Envelope(group, CLOSE, RESUME_CLOSE_CODE).encode(self.receiver.origin))
            for group in groups
        ]
        delay = 0.1
        while orders:
            try:
                await self._publish_now(orders[:PUBLISH_BATCH])
                del orders[:PUBLISH_BATCH]
            except (redis.RedisError, OSError) as error:
                metrics.BACKEND_ERRORS.labels("redis").inc()
                log.warning("fan-out: close orders not published yet (retrying): %s", error)
                await asyncio.sleep(delay)
                delay = min(delay * 2, RESUME_RETRY_MAX_SECONDS)

    async def _publish_now(self, batch: list[tuple[str, bytes]]) -> None:
        async with self._client.pipeline(transaction=False) as pipe:
            for group, data in batch:
                pipe.publish(REDIS_PREFIX + group, data)
            await pipe.execute()

    async def _read_forever(self) -> None:
        backoff = 0.5
        own_channel = f"{REDIS_PREFIX}process.{self.receiver.origin}"
        while True:
            pubsub = self._client.pubsub(ignore_subscribe_messages=True)
            was_live = False
            lost: BaseException | None = None
            try:
                async with self._subscription_lock:
                    self._pubsub = pubsub
                    channels = [REDIS_PREFIX + group for group in self._wanted]
                    # The process channel keeps the subscription alive when no group is wanted.
                    await pubsub.subscribe(own_channel, *channels)
                    self._live.set()
                    was_live = True
                backoff = 0.5
                async for item in pubsub.listen():
                    channel = item["channel"].decode()
                    self.receiver.receive_remote(channel[len(REDIS_PREFIX) :], item["data"])
            except asyncio.CancelledError:
                raise
            except (redis.RedisError, OSError) as error:
                # Redis going away is an outage to report, not a bug to trace: one line.
                metrics.BACKEND_ERRORS.labels("redis").inc()
                lost = error
            except Exception as error:
                metrics.BACKEND_ERRORS.labels("redis").inc()
                log.exception("fan-out: the Redis subscription failed")
                lost = error
            finally:
                self._live.clear()
                self._pubsub = None
            # Whatever was published while this process was not subscribed never reaches its
            # sockets: close them so their clients reconnect and resume from the database. First
            # of all: nothing else (logging, closing the dead connection) delays the close.
            await self.receiver.close_all(1011)
            if was_live:
                log.error("fan-out: lost the Redis subscription, sockets closed (1011): %s", lost)
            else:
                log.warning(
                    "fan-out: Redis subscription not back (retry in %.1f s): %s", backoff, lost
                )
            with contextlib.suppress(Exception):
                await pubsub.aclose()
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 10)


def transport_for(receiver: Receiver) -> LocalTransport | RedisTransport:
    """The transport `PARLEY_FANOUT` asks for: `redis` (on `REDIS_URL`) or `local`."""
    if settings.PARLEY_FANOUT == "redis":
        return RedisTransport(receiver, settings.REDIS_URL)
    return LocalTransport()
