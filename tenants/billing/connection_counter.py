"""Open visitor sockets per tenant: the count behind the plan's concurrent-connections limit.

The same counts serve the places one address of a tenant holds (`limits.aopen_address_place`),
under a string key of their own.

A count means something behind a load balancer only if it is global. Sockets open a few times a
second per tenant, except in a burst (a thousand widgets reconnecting after a deploy).

- `RedisConnectionCounter` (with `REDIS_URL` set): one atomic Redis script per open or close
  counts every process's sockets, each process in its own field of the tenant's hash, which the
  next open drops once the process stops refreshing its liveness key: a crashed worker's sockets
  free up within a minute. In a burst, the opens of a tenant that wait behind a call in flight go
  as one call.
- `ConnectionCounter` (no Redis: a single process, development, tests): the count lives in
  process memory; with several processes and no Redis the limit would apply per process.

Both have the same interface; the async methods never block the event loop.
"""

import asyncio
import logging
import os
import socket
import threading
import uuid
import weakref

import redis

from core.redis_config import parse_redis_url

log = logging.getLogger(__name__)

# What is counted: a tenant's visitor sockets (its id), or those of one address of a tenant (a
# string key, `limits.aopen_address_place`).
CountKey = int | str


class ConnectionCounter:
    """Open visitor sockets per tenant in this process. Never blocks: plain memory and a lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open: dict[int, int] = {}

    def try_open(self, key: CountKey, limit: int) -> bool:
        with self._lock:
            current = self._open.get(key, 0)
            if current >= limit:
                return False
            self._open[key] = current + 1
            return True

    async def atry_open(self, key: CountKey, limit: int) -> bool:
        return self.try_open(key, limit)

    def close(self, key: CountKey) -> None:
        with self._lock:
            remaining = self._open.get(key, 0) - 1
            if remaining > 0:
                self._open[key] = remaining
            else:
                self._open.pop(key, None)

    async def aclose(self, key: CountKey) -> None:
        self.close(key)

    def current(self, key: CountKey) -> int:
        return self._open.get(key, 0)

    def heartbeat(self) -> None:
        """Nothing to keep alive in process memory."""


# Each process counts its own sockets in one field of the tenant's hash; a process that dies
# without closing them stops refreshing its liveness key, and the next open drops its field.
# ARGV[5] sockets ask to open at once: as many as fit under the limit are counted, and that
# number is returned.
_OPEN_SCRIPT = """
local total = 0
local fields = redis.call('HGETALL', KEYS[1])
redis.call('SET', ARGV[3] .. ARGV[1], 1, 'EX', ARGV[4])
for i = 1, #fields, 2 do
  if redis.call('EXISTS', ARGV[3] .. fields[i]) == 1 then
    total = total + tonumber(fields[i + 1])
  else
    redis.call('HDEL', KEYS[1], fields[i])
  end
end
local granted = math.min(tonumber(ARGV[5]), tonumber(ARGV[2]) - total)
if granted <= 0 then
  return 0
end
redis.call('HINCRBY', KEYS[1], ARGV[1], granted)
return granted
"""
# ARGV[2] sockets closed.
_CLOSE_SCRIPT = """
local left = redis.call('HINCRBY', KEYS[1], ARGV[1], -tonumber(ARGV[2]))
if left <= 0 then
  redis.call('HDEL', KEYS[1], ARGV[1])
end
return left
"""


ASYNC_POOL_CONNECTIONS = 50
ASYNC_POOL_WAIT_SECONDS = 10


class _Waiting:
    """The opens (or closes) of one tenant waiting for the call in flight to finish."""

    def __init__(self) -> None:
        self.futures: list[asyncio.Future] = []
        self.sending = False


class _LoopState:
    """redis-py's asyncio connections belong to the event loop that opened them; so do the
    waiting lists."""

    def __init__(self, target) -> None:
        # A burst of sockets opening at once waits for a free connection of a bounded pool
        # rather than failing (redis-py's plain pool raises past max_connections).
        client = target.async_client(
            max_connections=ASYNC_POOL_CONNECTIONS, timeout=ASYNC_POOL_WAIT_SECONDS
        )
        self.open_script = client.register_script(_OPEN_SCRIPT)
        self.close_script = client.register_script(_CLOSE_SCRIPT)
        self.opening: dict[CountKey, _Waiting] = {}
        self.closing: dict[CountKey, _Waiting] = {}


class RedisConnectionCounter:
    """Open visitor sockets per tenant across every process sharing one Redis.

    One atomic script per open or close (a round trip of well under a millisecond). The async
    methods use redis-py's asyncio client, so the event loop never waits on the network, and they
    coalesce: while one call for a tenant is in flight, the tenant's next opens (or closes) wait
    and then go as one call. A quiet tenant's socket makes its own call; a thousand widgets
    reconnecting at once make a few dozen, with the same answers as one call each.
    """

    PREFIX = "parley:billing:"
    WORKER_TTL_SECONDS = 60

    def __init__(self, url: str, *, worker_id: str | None = None) -> None:
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._target = parse_redis_url(url)
        self._client = self._target.sync_client()
        self._open = self._client.register_script(_OPEN_SCRIPT)
        self._close = self._client.register_script(_CLOSE_SCRIPT)
        self._loops: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def _key(self, key: CountKey) -> str:
        return f"{self.PREFIX}connections:{key}"

    def _open_args(self, limit: int, count: int = 1) -> list:
        return [self.worker_id, limit, f"{self.PREFIX}worker:", self.WORKER_TTL_SECONDS, count]

    def _loop_state(self) -> _LoopState:
        loop = asyncio.get_running_loop()
        state = self._loops.get(loop)
        if state is None:
            state = self._loops[loop] = _LoopState(self._target)
        return state

    def try_open(self, key: CountKey, limit: int) -> bool:
        return bool(self._open(keys=[self._key(key)], args=self._open_args(limit)))

    async def atry_open(self, key: CountKey, limit: int) -> bool:
        state = self._loop_state()
        return await self._wait_turn(
            state.opening, key, lambda batch: self._send_opens(state, key, limit, batch)
        )

    def close(self, key: CountKey) -> None:
        self._close(keys=[self._key(key)], args=[self.worker_id, 1])

    async def aclose(self, key: CountKey) -> None:
        state = self._loop_state()
        await self._wait_turn(
            state.closing, key, lambda batch: self._send_closes(state, key, batch)
        )

    async def _send_opens(self, state: _LoopState, key: CountKey, limit: int, batch) -> None:
        keys = [self._key(key)]
        granted = int(await state.open_script(keys=keys, args=self._open_args(limit, len(batch))))
        left = 0
        for index, future in enumerate(batch):
            if future.done():
                left += index < granted  # opened for a caller that left: its place goes back
            else:
                future.set_result(index < granted)
        if left:
            await self._close_many(state, key, left)

    async def _send_closes(self, state: _LoopState, key: CountKey, batch) -> None:
        await self._close_many(state, key, len(batch))
        for future in batch:
            if not future.done():
                future.set_result(None)

    async def _close_many(self, state: _LoopState, key: CountKey, count: int) -> None:
        await state.close_script(keys=[self._key(key)], args=[self.worker_id, count])

    async def _wait_turn(self, waiting: dict[CountKey, _Waiting], key: CountKey, send):
        """Join the tenant's waiting list; the first to join sends for everyone until the list
        is empty. `send(batch)` makes one call for the batch and answers its futures."""
        entry = waiting.setdefault(key, _Waiting())
        future = asyncio.get_running_loop().create_future()
        entry.futures.append(future)
        if not entry.sending:
            entry.sending = True
            asyncio.get_running_loop().create_task(self._send_all(waiting, key, entry, send))
        return await future

    async def _send_all(
        self, waiting: dict[CountKey, _Waiting], key: CountKey, entry: _Waiting, send
    ):
        try:
            while entry.futures:
                batch, entry.futures = entry.futures, []
                try:
                    await send(batch)
                except Exception as error:  # every caller of the batch gets the error
                    for future in batch:
                        if not future.done():
                            future.set_exception(error)
        finally:
            entry.sending = False
            if waiting.get(key) is entry and not entry.futures:
                del waiting[key]

    def current(self, key: CountKey) -> int | None:
        """The tenant's open sockets; None while Redis cannot be asked (the billing page shows
        the count as unknown rather than fail)."""
        try:
            counts = self._client.hvals(self._key(key))
        except redis.RedisError as error:
            log.warning("open visitor sockets not counted, Redis is unreachable: %s", error)
            return None
        return sum(int(count) for count in counts)

    def heartbeat(self) -> None:
        """Keep this process's counts alive (the background thread calls it every interval)."""
        self._client.set(f"{self.PREFIX}worker:{self.worker_id}", 1, ex=self.WORKER_TTL_SECONDS)
