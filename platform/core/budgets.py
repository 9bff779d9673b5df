"""Budgets over time windows, counted in process memory and shared through Redis in batches.

A plan's limits protect an installation from a tenant; budgets protect a tenant from one of its
visitors or one address (docs/SECURITY.md). They are checked on every message, so a check must
cost microseconds on the event loop: no Redis round trip per message.

`WindowBudget(name, window)` counts hits per key in windows of time (`Fixed(seconds)`, aligned
to the epoch, or `CalendarMonth()`, UTC). `take(key, limit)` counts one hit and answers 0, or
the seconds until the window ends when the key has used its `limit` (counting nothing); the
limit is given per call, so one budget can follow each tenant's plan. `give_back(key)` uncounts
a hit whose work was refused after all.

Every `BUDGET_FLUSH_SECONDS` (2 s) a thread adds what this process counted to one Redis counter
per key and window (`INCRBY`, expiring with the window) and reads back the totals of every key it
knows, in one pipelined round trip: every process then checks against what all of them had
counted at the last flush plus its own count since. As
with the monthly usage (tenants/billing/usage.py), a key can pass its limit by at most what the
other processes count in one interval. Without Redis (one process) the counts here are the
whole truth. While Redis cannot be reached the counts are kept and sent with the next flush.
"""

import hashlib
import logging
import math
import threading
import time
from collections.abc import Hashable
from dataclasses import dataclass
from datetime import UTC, datetime

import redis
from django.conf import settings

from core.logging import Occasional
from core.redis_config import parse_redis_url

log = logging.getLogger(__name__)

REDIS_PREFIX = "parley:budget:"


@dataclass(frozen=True)
class Fixed:
    """Windows of `seconds`, aligned to the epoch."""

    seconds: int

    def of(self, now: float) -> tuple[str, float]:
        """The window holding `now`: its name and when it ends (epoch seconds)."""
        index = math.floor(now / self.seconds)
        return str(index), (index + 1) * self.seconds


@dataclass(frozen=True)
class CalendarMonth:
    """Calendar months, UTC."""

    def of(self, now: float) -> tuple[str, float]:
        moment = datetime.fromtimestamp(now, UTC)
        year, month = (
            (moment.year + 1, 1) if moment.month == 12 else (moment.year, moment.month + 1)
        )
        ends = datetime(year, month, 1, tzinfo=UTC)
        return f"{moment.year}-{moment.month:02d}", ends.timestamp()


Window = Fixed | CalendarMonth
Slot = tuple[Hashable, str]  # (key, window name)


class WindowBudget:
    """Hits per key and window (see the module docstring). Thread-safe: a lock around plain
    dictionaries, held for microseconds."""

    def __init__(self, name: str, window: Window) -> None:
        self.name = name
        self.window = window
        self._lock = threading.Lock()
        self._shared: dict[Slot, int] = {}  # every process's total at the last flush
        self._pending: dict[Slot, int] = {}  # counted here since the last flush
        self._ends: dict[str, float] = {}  # window name -> when it ends
        budgets.append(self)
        _flusher.ensure()

    def take(self, key: Hashable, limit: int, *, now: float | None = None) -> float:
        """Count one hit of `key`: 0.0, or (counting nothing) the seconds until its window ends
        when it has used `limit` hits in it."""
        now = time.time() if now is None else now
        window, ends_at = self.window.of(now)
        slot = (key, window)
        with self._lock:
            used = self._shared.get(slot, 0) + self._pending.get(slot, 0)
            if used >= limit:
                return max(ends_at - now, 0.001)
            self._pending[slot] = self._pending.get(slot, 0) + 1
            self._ends[window] = ends_at
            return 0.0

    def give_back(self, key: Hashable, *, now: float | None = None) -> None:
        window, _ends_at = self.window.of(time.time() if now is None else now)
        slot = (key, window)
        with self._lock:
            self._pending[slot] = self._pending.get(slot, 0) - 1

    def used(self, key: Hashable, *, now: float | None = None) -> int:
        window, _ends_at = self.window.of(time.time() if now is None else now)
        slot = (key, window)
        with self._lock:
            return self._shared.get(slot, 0) + self._pending.get(slot, 0)

    def flush(self, client: redis.Redis | None, now: float | None = None) -> None:
        """Share this process's counts (with Redis, or only here without it); forget the
        windows that ended."""
        now = time.time() if now is None else now
        with self._lock:
            batch, self._pending = self._pending, {}
            ends = dict(self._ends)
            known = [slot for slot in self._shared if slot not in batch]
        totals: dict[Slot, int] = {}
        if client is not None and (batch or known):
            try:
                totals = self._send(client, batch, known, ends)
            except (redis.RedisError, OSError):
                with self._lock:  # kept for the next flush; counted here meanwhile
                    for slot, count in batch.items():
                        self._pending[slot] = self._pending.get(slot, 0) + count
                raise
        with self._lock:
            if client is None:
                for slot, count in batch.items():
                    self._shared[slot] = self._shared.get(slot, 0) + count
            else:
                self._shared.update(totals)
            ended = {window for window, ends_at in self._ends.items() if ends_at <= now}
            if ended:
                self._ends = {w: e for w, e in self._ends.items() if w not in ended}
                self._shared = {s: c for s, c in self._shared.items() if s[1] not in ended}
                self._pending = {s: c for s, c in self._pending.items() if s[1] not in ended}

    def _send(self, client, batch: dict[Slot, int], known: list[Slot], ends: dict[str, float]):
        """Add the batch's counts; read back their totals and those of the other slots known
        here (what other processes counted for them)."""
        slots = list(batch)
        with client.pipeline(transaction=False) as pipe:
            for slot in slots:
                name = self._redis_key(slot)
                pipe.incrby(name, batch[slot])
                pipe.expireat(name, math.ceil(ends.get(slot[1], time.time() + 86400)) + 60)
            for slot in known:
                pipe.get(self._redis_key(slot))
            answers = pipe.execute()
        totals = {slot: int(answers[2 * index]) for index, slot in enumerate(slots)}
        for slot, total in zip(known, answers[2 * len(slots) :], strict=True):
            totals[slot] = int(total or 0)
        return totals

    def _redis_key(self, slot: Slot) -> str:
        key, window = slot
        digest = hashlib.sha256(repr(key).encode()).hexdigest()[:32]  # addresses, hashed
        return f"{REDIS_PREFIX}{self.name}:{window}:{digest}"


budgets: list[WindowBudget] = []


class _Flusher:
    """The thread that flushes every budget of this process (started with the first budget)."""

    def __init__(self) -> None:
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._client: redis.Redis | None = None
        self._failures = Occasional(60)

    def ensure(self) -> None:
        interval = settings.BUDGET_FLUSH_SECONDS
        if self._thread is not None or interval <= 0:
            return
        with self._lock:
            if self._thread is None:
                target = parse_redis_url(settings.REDIS_URL) if settings.REDIS_URL else None
                self._client = target.sync_client() if target else None
                self._thread = threading.Thread(
                    target=self._forever, args=(interval,), name="parley-budgets", daemon=True
                )
                self._thread.start()

    def _forever(self, interval: float) -> None:
        while True:
            time.sleep(interval)
            flush_all(self._client, failures=self._failures)


def flush_all(client: redis.Redis | None, *, failures: Occasional | None = None) -> None:
    """Flush every budget of this process now (the thread does it every interval)."""
    for budget in list(budgets):
        try:
            budget.flush(client)
        except (redis.RedisError, OSError) as error:
            count = failures.happened() if failures is not None else 1
            if count:
                log.warning(
                    "budgets not shared (%s flushes failed), Redis is unreachable: %s; "
                    "counted in this process until it answers",
                    count,
                    error,
                )
        except Exception:
            log.exception("flushing the budget %s failed", budget.name)


_flusher = _Flusher()
