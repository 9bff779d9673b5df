"""The counters behind the plan limits (`limits.py` explains the choices and is the interface).

- `ConnectionCounter`: open visitor sockets per tenant in this process.
- `RedisConnectionCounter`: the same, shared by every process through Redis.
- `MessageCounter`: messages per tenant-month in process memory, written to `MonthlyUsage` by
  periodic flushes of what was counted since the last one.
"""

import asyncio
import logging
import os
import socket
import threading
import uuid
import weakref
from datetime import UTC, date, datetime

from django.db import IntegrityError, connection, transaction

from core.redis_config import parse_redis_url
from tenants.billing.models import MonthlyUsage

logger = logging.getLogger(__name__)


class ConnectionCounter:
    """Open visitor sockets per tenant in this process. Never blocks: plain memory and a lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open: dict[int, int] = {}

    def try_open(self, tenant_id: int, limit: int) -> bool:
        with self._lock:
            current = self._open.get(tenant_id, 0)
            if current >= limit:
                return False
            self._open[tenant_id] = current + 1
            return True

    async def atry_open(self, tenant_id: int, limit: int) -> bool:
        return self.try_open(tenant_id, limit)

    def close(self, tenant_id: int) -> None:
        with self._lock:
            remaining = self._open.get(tenant_id, 0) - 1
            if remaining > 0:
                self._open[tenant_id] = remaining
            else:
                self._open.pop(tenant_id, None)

    async def aclose(self, tenant_id: int) -> None:
        self.close(tenant_id)

    def current(self, tenant_id: int) -> int:
        return self._open.get(tenant_id, 0)

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
        self.opening: dict[int, _Waiting] = {}
        self.closing: dict[int, _Waiting] = {}


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

    def _key(self, tenant_id: int) -> str:
        return f"{self.PREFIX}connections:{tenant_id}"

    def _open_args(self, limit: int, count: int = 1) -> list:
        return [self.worker_id, limit, f"{self.PREFIX}worker:", self.WORKER_TTL_SECONDS, count]

    def _loop_state(self) -> _LoopState:
        loop = asyncio.get_running_loop()
        state = self._loops.get(loop)
        if state is None:
            state = self._loops[loop] = _LoopState(self._target)
        return state

    def try_open(self, tenant_id: int, limit: int) -> bool:
        return bool(self._open(keys=[self._key(tenant_id)], args=self._open_args(limit)))

    async def atry_open(self, tenant_id: int, limit: int) -> bool:
        state = self._loop_state()
        return await self._wait_turn(
            state.opening, tenant_id, lambda batch: self._send_opens(state, tenant_id, limit, batch)
        )

    def close(self, tenant_id: int) -> None:
        self._close(keys=[self._key(tenant_id)], args=[self.worker_id, 1])

    async def aclose(self, tenant_id: int) -> None:
        state = self._loop_state()
        await self._wait_turn(
            state.closing, tenant_id, lambda batch: self._send_closes(state, tenant_id, batch)
        )

    async def _send_opens(self, state: _LoopState, tenant_id: int, limit: int, batch) -> None:
        key = [self._key(tenant_id)]
        granted = int(await state.open_script(keys=key, args=self._open_args(limit, len(batch))))
        left = 0
        for index, future in enumerate(batch):
            if future.done():
                left += index < granted  # opened for a caller that left: its place goes back
            else:
                future.set_result(index < granted)
        if left:
            await self._close_many(state, tenant_id, left)

    async def _send_closes(self, state: _LoopState, tenant_id: int, batch) -> None:
        await self._close_many(state, tenant_id, len(batch))
        for future in batch:
            if not future.done():
                future.set_result(None)

    async def _close_many(self, state: _LoopState, tenant_id: int, count: int) -> None:
        await state.close_script(keys=[self._key(tenant_id)], args=[self.worker_id, count])

    async def _wait_turn(self, waiting: dict[int, _Waiting], tenant_id: int, send):
        """Join the tenant's waiting list; the first to join sends for everyone until the list
        is empty. `send(batch)` makes one call for the batch and answers its futures."""
        entry = waiting.setdefault(tenant_id, _Waiting())
        future = asyncio.get_running_loop().create_future()
        entry.futures.append(future)
        if not entry.sending:
            entry.sending = True
            asyncio.get_running_loop().create_task(self._send_all(waiting, tenant_id, entry, send))
        return await future

    async def _send_all(self, waiting: dict[int, _Waiting], tenant_id: int, entry: _Waiting, send):
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
            if waiting.get(tenant_id) is entry and not entry.futures:
                del waiting[tenant_id]

    def current(self, tenant_id: int) -> int:
        return sum(int(count) for count in self._client.hvals(self._key(tenant_id)))

    def heartbeat(self) -> None:
        """Keep this process's counts alive (the background thread calls it every interval)."""
        self._client.set(f"{self.PREFIX}worker:{self.worker_id}", 1, ex=self.WORKER_TTL_SECONDS)


def month_of(moment: datetime) -> date:
    return moment.astimezone(UTC).date().replace(day=1)


UsageKey = tuple[int, date]  # (tenant id, first day of the month)


class MessageCounter:
    """Messages per tenant-month: the total written to the database plus this process's share.

    `written` is the database total read at the last load or flush; `pending` counts what this
    process has counted since; `flushing` what a flush is writing right now.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._written: dict[UsageKey, int] = {}
        self._pending: dict[UsageKey, int] = {}
        self._flushing: dict[UsageKey, int] = {}

    def knows(self, key: UsageKey) -> bool:
        return key in self._written

    def load(self, key: UsageKey) -> None:
        """Read the tenant-month total written so far (a read, once per key and flush)."""
        row = MonthlyUsage.objects.filter(tenant_id=key[0], month=key[1]).first()
        with self._lock:
            self._written.setdefault(key, row.messages if row is not None else 0)

    def _used(self, key: UsageKey) -> int:
        return self._written.get(key, 0) + self._flushing.get(key, 0) + self._pending.get(key, 0)

    def try_count(self, key: UsageKey, limit: int, count: int = 1) -> bool:
        """Count `count` messages when they all fit under `limit`; else count none."""
        with self._lock:
            if self._used(key) + count > limit:
                return False
            self._pending[key] = self._pending.get(key, 0) + count
            return True

    def give_back(self, key: UsageKey, count: int) -> None:
        """Uncount messages counted by `try_count` that were not stored after all."""
        with self._lock:
            self._pending[key] = self._pending.get(key, 0) - count

    def used(self, key: UsageKey) -> int:
        """The count as this process knows it (loading the written total when unknown)."""
        if not self.knows(key):
            self.load(key)
        with self._lock:
            return self._used(key)

    def flush(self) -> int:
        """Add this process's counts to the database; returns how many messages were written."""
        with self._lock:
            self._flushing, self._pending = self._pending, {}
            batch = dict(self._flushing)
            # Keys with nothing to write are forgotten, so their next use reads the database again
            # and sees what other processes have written.
            self._written = {key: value for key, value in self._written.items() if key in batch}
        written: dict[UsageKey, int] = {}
        done: set[UsageKey] = set()
        try:
            for key, delta in batch.items():
                try:
                    written[key] = _usage_add(key, delta)
                except IntegrityError:
                    logger.warning("Message usage of deleted tenant %s dropped", key[0])
                done.add(key)
        except Exception:
            with self._lock:  # keep the counts for the next flush
                for key, delta in batch.items():
                    if key not in done:
                        self._pending[key] = self._pending.get(key, 0) + delta
            raise
        finally:
            with self._lock:
                self._written.update(written)
                self._flushing = {}
        return sum(batch[key] for key in written)


def _usage_add(key: UsageKey, delta: int) -> int:
    """Add to a tenant-month's count in one statement; returns the new total."""
    table = MonthlyUsage._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (tenant_id, month, messages) VALUES (%s, %s, %s) "
            f"ON CONFLICT (tenant_id, month) DO UPDATE SET messages = {table}.messages + "
            "EXCLUDED.messages RETURNING messages",
            [key[0], key[1], delta],
        )
        return cursor.fetchone()[0]
