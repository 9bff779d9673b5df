"""Plan limits, enforced live and cheaply: what the API, the sockets and the dashboard call.

Plan lookup
    `plan_for(tenant_id) -> Plan` (async: `await aplan_for(tenant_id)`) answers from a per-process
    cache: one database read per tenant every `BILLING_PLAN_CACHE_SECONDS` (30 s), none in between.
    The billing services forget a tenant's entry when its billing state changes in this process;
    other processes see the change within the TTL. The grace period after a failed payment is
    applied when read: the cached entry never outlives the end of the grace period.

Sites and agents (HTTP API, dashboard): call inside the transaction that creates the object.
    `ensure_can_add_site(tenant)` raises `core.errors.PlanLimit` (402 `plan_limit`) when the tenant
    already has as many sites as its plan allows; inside an atomic block it locks the tenant row
    first, so two concurrent creations cannot both take the last place.
    `ensure_can_add_agent(tenant, current_count)` does the same for dashboard users (owner, admins
    and agents); the caller counts them, since they live in the tenant's schema.

Concurrent visitor sockets (ChatConsumer):
    `try_open_connection(tenant_id) -> bool` on connect (async: `atry_open_connection`); when
    False, close the socket with `PlanLimit.close_code` (4402). Call `close_connection(tenant_id)`
    (async: `aclose_connection`) exactly once for each successful open, on disconnect.

Monthly messages (ChatConsumer, API messages from agents or bots):
    `try_count_message(tenant_id) -> bool` (async: `atry_count_message`) counts one message of the
    current UTC month; False past the plan's monthly limit: answer an `error` frame `plan_limit`
    (or raise `PlanLimit` in HTTP) and do not store the message.

Usage summary (dashboard billing page): `usage_summary(tenant)`.

How counting stays cheap, and what it costs in accuracy
    Messages are counted in process memory under a lock (no database write, no network round trip
    per message). A background thread started on first use writes each process's counts to the
    tenant-month row (`MonthlyUsage`) every `BILLING_USAGE_FLUSH_SECONDS` (10 s) as one
    `INSERT .. ON CONFLICT DO UPDATE SET messages = messages + delta` per active tenant-month, and
    reads back the total that every process has written so far; `flush_usage()` does the same on
    demand (and at exit). Each process checks the limit against that total plus its own unwritten
    count, so with N processes a tenant can overshoot its monthly limit by at most what the other
    N-1 processes count in one flush interval: cheap and exact enough for a monthly allowance.
    A crash loses at most one interval of counts (in the tenant's favour).

    Concurrent connections are counted in process memory too, which makes the limit per process:
    with N workers behind a load balancer a tenant may hold up to N times its limit. Connections
    open at most a few times per second per tenant, so a deployment that needs an exact global
    limit can afford a shared counter (Redis INCR/DECR with expiry) behind the same interface.

All of it is non-blocking except the first `plan_for` or message count of a tenant in a cache
period, which reads the database; the async variants do that read through
`database_sync_to_async`, so the event loop never waits on the database.
"""

import atexit
import logging
import threading
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime

from channels.db import database_sync_to_async
from django.conf import settings
from django.db import IntegrityError, close_old_connections, connection, transaction
from django.utils import timezone
from django_tenants.utils import tenant_context

from core.errors import PlanLimit
from dashboard.models import User
from tenants.billing.models import BillingAccount, MonthlyUsage
from tenants.billing.plans import DEFAULT_PLAN, Plan
from tenants.billing.stripe_api import billing_configured
from tenants.models import Site, Tenant

logger = logging.getLogger(__name__)

# --- Which plan applies ---------------------------------------------------------------------------

_plan_cache: dict[int, tuple[float, Plan]] = {}


def plan_for(tenant_id: int) -> Plan:
    """The plan that applies to the tenant now (cached in process; see the module docstring)."""
    cached = _plan_cache.get(tenant_id)
    if cached is not None and cached[0] > time.monotonic():
        return cached[1]
    plan, seconds_valid = _plan_from_database(tenant_id)
    _plan_cache[tenant_id] = (time.monotonic() + seconds_valid, plan)
    return plan


async def aplan_for(tenant_id: int) -> Plan:
    cached = _plan_cache.get(tenant_id)
    if cached is not None and cached[0] > time.monotonic():
        return cached[1]
    return await database_sync_to_async(plan_for)(tenant_id)


def plan_cache_forget(tenant_id: int | None = None) -> None:
    """Drop the cached plan of one tenant (of all when None): the next read asks the database."""
    if tenant_id is None:
        _plan_cache.clear()
    else:
        _plan_cache.pop(tenant_id, None)


def _plan_from_database(tenant_id: int) -> tuple[Plan, float]:
    ttl = settings.BILLING_PLAN_CACHE_SECONDS
    if not billing_configured():
        return DEFAULT_PLAN, ttl
    # Billing tables live in the public schema, which is on every tenant's search path: this read
    # works whatever tenant the connection is set to, and needs no schema switch.
    account = BillingAccount.objects.filter(tenant_id=tenant_id).first()
    if account is None:
        return DEFAULT_PLAN, ttl
    now = timezone.now()
    grace_ends_at = account.grace_ends_at()
    if grace_ends_at is not None and grace_ends_at > now:
        ttl = min(ttl, (grace_ends_at - now).total_seconds())
    return account.effective_plan(now), ttl


# --- Sites and agents -----------------------------------------------------------------------------


def ensure_can_add_site(tenant: Tenant) -> None:
    """Raise `PlanLimit` when the tenant's plan allows no more sites."""
    if connection.in_atomic_block:
        # Serialize concurrent creations for this tenant until the caller's transaction ends.
        Tenant.objects.select_for_update().filter(pk=tenant.pk).first()
    plan = plan_for(tenant.pk)
    if Site.objects.filter(tenant=tenant).count() >= plan.sites:
        raise PlanLimit(f"The {plan.name} plan allows {plan.sites} site(s); upgrade for more.")


def ensure_can_add_agent(tenant: Tenant, current_count: int) -> None:
    """Raise `PlanLimit` when the tenant already has as many dashboard users as its plan allows."""
    plan = plan_for(tenant.pk)
    if current_count >= plan.agents:
        raise PlanLimit(f"The {plan.name} plan allows {plan.agents} agent(s); upgrade for more.")


# --- Concurrent visitor connections ---------------------------------------------------------------


class ConnectionCounter:
    """Open visitor sockets per tenant in this process."""

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

    def close(self, tenant_id: int) -> None:
        with self._lock:
            remaining = self._open.get(tenant_id, 0) - 1
            if remaining > 0:
                self._open[tenant_id] = remaining
            else:
                self._open.pop(tenant_id, None)

    def current(self, tenant_id: int) -> int:
        return self._open.get(tenant_id, 0)


_connections = ConnectionCounter()


def try_open_connection(tenant_id: int) -> bool:
    return _connections.try_open(tenant_id, plan_for(tenant_id).concurrent_connections)


async def atry_open_connection(tenant_id: int) -> bool:
    plan = await aplan_for(tenant_id)
    return _connections.try_open(tenant_id, plan.concurrent_connections)


def close_connection(tenant_id: int) -> None:
    _connections.close(tenant_id)


async def aclose_connection(tenant_id: int) -> None:
    _connections.close(tenant_id)


# --- Monthly messages -----------------------------------------------------------------------------


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

    def try_count(self, key: UsageKey, limit: int) -> bool:
        with self._lock:
            used = (
                self._written.get(key, 0) + self._flushing.get(key, 0) + self._pending.get(key, 0)
            )
            if used >= limit:
                return False
            self._pending[key] = self._pending.get(key, 0) + 1
            return True

    def used(self, key: UsageKey) -> int:
        """The count as this process knows it (loading the written total when unknown)."""
        if not self.knows(key):
            self.load(key)
        with self._lock:
            return (
                self._written.get(key, 0) + self._flushing.get(key, 0) + self._pending.get(key, 0)
            )

    def flush(self) -> int:
        """Add this process's counts to the database; returns how many messages were written."""
        with self._lock:
            self._flushing, self._pending = self._pending, {}
            batch = dict(self._flushing)
            # Keys with nothing to write are forgotten, so their next use reads the database again
            # and sees what other processes have written.
            self._written = {key: value for key, value in self._written.items() if key in batch}
        written: dict[UsageKey, int] = {}
        try:
            for key, delta in batch.items():
                try:
                    written[key] = _usage_add(key, delta)
                except IntegrityError:
                    logger.warning("Message usage of deleted tenant %s dropped", key[0])
        except Exception:
            with self._lock:  # keep the counts for the next flush
                for key, delta in batch.items():
                    if key not in written:
                        self._pending[key] = self._pending.get(key, 0) + delta
            raise
        finally:
            with self._lock:
                self._written.update(written)
                self._flushing = {}
        return sum(batch[key] for key in written)


def _usage_add(key: UsageKey, delta: int) -> int:
    """Add to a tenant-month's count in one statement; returns the new total."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {MonthlyUsage._meta.db_table} (tenant_id, month, messages) "
            "VALUES (%s, %s, %s) ON CONFLICT (tenant_id, month) "
            f"DO UPDATE SET messages = {MonthlyUsage._meta.db_table}.messages + EXCLUDED.messages "
            "RETURNING messages",
            [key[0], key[1], delta],
        )
        return cursor.fetchone()[0]


_messages = MessageCounter()


def try_count_message(tenant_id: int) -> bool:
    """Count one message of the tenant this month; False (not counted) past the plan's limit."""
    _flusher_ensure()
    key = (tenant_id, month_of(timezone.now()))
    if not _messages.knows(key):
        _messages.load(key)
    return _messages.try_count(key, plan_for(tenant_id).messages_per_month)


async def atry_count_message(tenant_id: int) -> bool:
    _flusher_ensure()
    key = (tenant_id, month_of(timezone.now()))
    if not _messages.knows(key):
        await database_sync_to_async(_messages.load)(key)
    plan = await aplan_for(tenant_id)
    return _messages.try_count(key, plan.messages_per_month)


def flush_usage() -> int:
    """Write this process's message counts to the database now; returns how many were written."""
    return _messages.flush()


_flusher: threading.Thread | None = None
_flusher_lock = threading.Lock()


def _flusher_ensure() -> None:
    """Start the background flush on first use, when `BILLING_USAGE_FLUSH_SECONDS` > 0."""
    global _flusher
    if _flusher is not None or settings.BILLING_USAGE_FLUSH_SECONDS <= 0:
        return
    with _flusher_lock:
        if _flusher is None:
            _flusher = threading.Thread(
                target=_flush_forever,
                args=(settings.BILLING_USAGE_FLUSH_SECONDS,),
                name="parley-usage-flush",
                daemon=True,
            )
            _flusher.start()
            atexit.register(_flush_logged)


def _flush_forever(interval: float) -> None:
    while True:
        time.sleep(interval)
        _flush_logged()


def _flush_logged() -> None:
    try:
        flush_usage()
    except Exception:
        logger.exception("Writing message usage failed; the counts are kept for the next flush")
    finally:
        close_old_connections()


# --- Usage summary --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Usage:
    name: str
    used: int
    limit: int

    @property
    def percent(self) -> int:
        return min(100, round(100 * self.used / self.limit)) if self.limit else 100


@dataclass(frozen=True)
class UsageSummary:
    plan: Plan
    usage: list[Usage]
    history_days: int


def usage_summary(tenant: Tenant) -> UsageSummary:
    """The plan that applies and the tenant's usage against each of its limits."""
    plan = plan_for(tenant.pk)
    with tenant_context(tenant):
        agents = User.objects.filter(is_active=True).count()
    return UsageSummary(
        plan=plan,
        usage=[
            Usage("Sites", Site.objects.filter(tenant=tenant).count(), plan.sites),
            Usage("Agents", agents, plan.agents),
            Usage(
                "Visitors connected now",
                _connections.current(tenant.pk),
                plan.concurrent_connections,
            ),
            Usage(
                "Messages this month",
                _messages.used((tenant.pk, month_of(timezone.now()))),
                plan.messages_per_month,
            ),
        ],
        history_days=plan.history_days,
    )
