"""Plan limits, enforced live and cheaply: what the API, the sockets and the dashboard call.

Plan lookup
    `plan_for(tenant_id) -> Plan` (async: `await aplan_for(tenant_id)`) answers from a per-process
    cache: one database read per tenant every `BILLING_PLAN_CACHE_SECONDS` (30 s), none in between.
    The billing services forget a tenant's entry when its billing state changes in this process;
    other processes see the change within the TTL. The grace period after a failed payment is
    applied when read: the cached entry never outlives the end of the grace period.

Sites and agents (HTTP API, dashboard): call inside the transaction that creates the object.
    `ensure_can_add_site(tenant)` raises `core.errors.PlanLimit` (402 `plan_limit`) when the tenant
    already has as many sites as its plan allows; `ensure_can_add_agent(tenant, count_members=...)`
    does the same for dashboard users (owner, admins, agents and pending invitations). Inside an
    atomic block both lock the tenant row first, so two concurrent creations cannot both take the
    last place.

Concurrent visitor sockets (ChatConsumer):
    `try_open_connection(tenant_id) -> bool` on auth (async: `atry_open_connection`); when
    False, close the socket with `PlanLimit.close_code` (4402). Call `close_connection(tenant_id)`
    (async: `aclose_connection`) exactly once for each successful open, on cleanup.

Monthly messages (`widget.services.message_post_many`, whoever writes):
    `MessageQuota(tenant_id).take(n)` counts the n new messages of a transaction, raising
    `PlanLimit` (counting none) past the plan's monthly limit; `give_back()` when the transaction
    does not commit. `try_count_message(tenant_id)` is the same check for one message.

Usage summary (dashboard billing page): `usage_summary(tenant, members=...)` gives the plan and
    the usage against each limit; the invoices come from Stripe
    (`tenants.billing.selectors.tenant_invoices`).

How counting stays cheap, and what it costs in accuracy (counters in `counters.py`)
    Messages are counted in process memory under a lock: no database write and no network round
    trip per message. A background thread, started on first use, writes each process's counts to
    the tenant-month row (`MonthlyUsage`) every `BILLING_USAGE_FLUSH_SECONDS` (10 s) as one
    `INSERT .. ON CONFLICT DO UPDATE SET messages = messages + delta` per active tenant-month, and
    reads back the total that every process has written so far; `flush_usage()` does the same on
    demand (and at exit). Each process checks the limit against that total plus its own unwritten
    count, so with N processes a tenant can overshoot its monthly limit by at most what the other
    N-1 processes count in one flush interval: cheap, and exact enough for a monthly allowance.
    A crash loses at most one interval of counts (in the tenant's favour). A shared Redis INCR per
    message would be exact across processes, at the price of a round trip on every message.

    Concurrent connections need a global count to mean anything behind a load balancer, and they
    open a few times per second per tenant, except in a burst (a thousand widgets reconnecting
    after a deploy), when the opens of a tenant that wait behind a call in flight go as one call:
    with `REDIS_URL` set, one atomic Redis script per open or close (or batch) counts every
    process's sockets (each process in its own field of the tenant's hash, dropped by the next
    open once the process stops refreshing its liveness key: a crashed worker's sockets free up
    within a minute). Without
    Redis (a single process, development, tests) the count lives in process memory; with several
    processes and no Redis the limit would apply per process.

From asyncio code (the sockets) use the `a`-prefixed variants: they never block the event loop.
The in-memory counters are plain memory; the database reads (a tenant's plan or month total,
once per cache period) run on the sockets' database thread (`core.db_thread`), and Redis through
redis-py's asyncio client. The sync variants are for sync code (views, services, database units).
"""

import atexit
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import close_old_connections, connection
from django.utils import timezone

from core.db_thread import in_public
from core.errors import PlanLimit
from tenants.billing.counters import (
    ConnectionCounter,
    MessageCounter,
    RedisConnectionCounter,
    month_of,
)
from tenants.billing.models import BillingAccount
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
    return await in_public(plan_for, tenant_id=tenant_id)


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


def _lock_tenant(tenant: Tenant) -> None:
    """Inside an atomic block, serialize this tenant's creations until the transaction ends, so
    two concurrent ones cannot both take the last place."""
    if connection.in_atomic_block:
        Tenant.objects.select_for_update().filter(pk=tenant.pk).first()


def ensure_can_add_site(tenant: Tenant) -> None:
    """Raise `PlanLimit` when the tenant's plan allows no more sites."""
    _lock_tenant(tenant)
    plan = plan_for(tenant.pk)
    if Site.objects.filter(tenant=tenant).count() >= plan.sites:
        raise PlanLimit(f"The {plan.name} plan allows {plan.sites} site(s); upgrade for more.")


def ensure_can_add_agent(tenant: Tenant, *, count_members: Callable[[], int]) -> None:
    """Raise `PlanLimit` when the tenant already has as many dashboard users as its plan allows.

    `count_members` counts them (pending invitations included: one holds its place until it is
    accepted); it is called once the tenant row is locked, so the count cannot be stale. The
    caller owns the people (`accounts`); billing knows only the number."""
    _lock_tenant(tenant)
    plan = plan_for(tenant.pk)
    if count_members() >= plan.agents:
        raise PlanLimit(f"The {plan.name} plan allows {plan.agents} agent(s); upgrade for more.")


# --- Concurrent visitor connections ---------------------------------------------------------------


_connections: ConnectionCounter | RedisConnectionCounter = (
    RedisConnectionCounter(settings.REDIS_URL) if settings.REDIS_URL else ConnectionCounter()
)


def try_open_connection(tenant_id: int) -> bool:
    _background_ensure()
    return _connections.try_open(tenant_id, plan_for(tenant_id).concurrent_connections)


async def atry_open_connection(tenant_id: int) -> bool:
    _background_ensure()
    plan = await aplan_for(tenant_id)
    return await _connections.atry_open(tenant_id, plan.concurrent_connections)


def close_connection(tenant_id: int) -> None:
    _connections.close(tenant_id)


async def aclose_connection(tenant_id: int) -> None:
    await _connections.aclose(tenant_id)


# --- Monthly messages -----------------------------------------------------------------------------


_messages = MessageCounter()


def try_count_message(tenant_id: int, *, count: int = 1, now: datetime | None = None) -> bool:
    """Count `count` messages of the tenant this month (the month of `now`, UTC); False (none
    counted) when they do not all fit in the plan's monthly allowance."""
    _background_ensure()
    key = (tenant_id, month_of(now or timezone.now()))
    if not _messages.knows(key):
        _messages.load(key)
    return _messages.try_count(key, plan_for(tenant_id).messages_per_month, count)


class MessageQuota:
    """The messages one transaction counts: `take(n)` before storing n messages (raises
    `PlanLimit`, counting none, past the monthly allowance), `give_back()` when the transaction
    does not commit, so a refused or failed write is not counted."""

    def __init__(self, tenant_id: int) -> None:
        self.tenant_id = tenant_id
        self.now = timezone.now()
        self.taken = 0

    def take(self, count: int) -> None:
        if not try_count_message(self.tenant_id, count=count, now=self.now):
            plan = plan_for(self.tenant_id)
            raise PlanLimit(
                f"The {plan.name} plan allows {plan.messages_per_month:,} messages a month; "
                "upgrade for more."
            )
        self.taken += count

    def give_back(self) -> None:
        if self.taken:
            _messages.give_back((self.tenant_id, month_of(self.now)), self.taken)
            self.taken = 0


def flush_usage() -> int:
    """Write this process's message counts to the database now; returns how many were written."""
    return _messages.flush()


_background: threading.Thread | None = None
_background_lock = threading.Lock()


def _background_ensure() -> None:
    """On first use, start the thread that flushes message counts and keeps this process's
    connection counts alive, every `BILLING_USAGE_FLUSH_SECONDS` (none when 0)."""
    global _background
    if _background is not None or settings.BILLING_USAGE_FLUSH_SECONDS <= 0:
        return
    with _background_lock:
        if _background is None:
            _background = threading.Thread(
                target=_background_forever,
                args=(settings.BILLING_USAGE_FLUSH_SECONDS,),
                name="parley-billing-counters",
                daemon=True,
            )
            _background.start()
            atexit.register(_flush_logged)


def _background_forever(interval: float) -> None:
    while True:
        time.sleep(interval)
        try:
            _connections.heartbeat()
        except Exception:
            logger.exception("Refreshing this process's connection counts failed")
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


def usage_summary(tenant: Tenant, *, members: int) -> UsageSummary:
    """The plan that applies and the tenant's usage against each of its limits; `members` is
    the tenant's dashboard users, invitations included (`accounts.selectors.member_count`)."""
    plan = plan_for(tenant.pk)
    return UsageSummary(
        plan=plan,
        usage=[
            Usage("Sites", Site.objects.filter(tenant=tenant).count(), plan.sites),
            Usage("Agents (invitations included)", members, plan.agents),
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
