"""Monthly messages per tenant: counted in process memory, written to `MonthlyUsage` by flushes.

Messages are counted under a lock: no database write and no network round trip per message.
Every flush writes each process's counts since the last one to the tenant-month row as one
`INSERT .. ON CONFLICT DO UPDATE SET messages = messages + delta` per active tenant-month, and
reads back the total that every process has written so far. Each process checks the limit against
that total plus its own unwritten count, so with N processes a tenant can overshoot its monthly
limit by at most what the other N-1 processes count in one flush interval: cheap, and exact
enough for a monthly allowance. A crash loses at most one interval of counts (in the tenant's
favour). A shared Redis INCR per message would be exact across processes, at the price of a round
trip on every message.
"""

import logging
import threading
from datetime import UTC, date, datetime

from django.db import IntegrityError, connection, transaction

from tenants.billing.models import MonthlyUsage

logger = logging.getLogger(__name__)


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
