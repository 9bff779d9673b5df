"""Plan limits, enforced live and cheaply: what the API, the sockets and the dashboard call.

This module is the billing limits' interface; how the plan is looked up and how usage is counted
live beside it (`plan_lookup.py`, `process_counters.py`, `connection_counter.py`, `usage.py`).

Plan lookup
    `plan_for(tenant_id) -> Plan` (async: `await aplan_for(tenant_id)`) answers from a per-process
    cache; `plan_cache_forget(tenant_id)` drops an entry when the tenant's billing state changes.

Sites and agents (HTTP API, dashboard): call inside the transaction that creates the object.
    `ensure_can_add_site(tenant)` raises `core.errors.PlanLimit` (402 `plan_limit`) when the tenant
    already has as many sites as its plan allows; `ensure_can_add_agent(tenant, count_members=...)`
    does the same for dashboard users (owner, admins, agents and pending invitations). Inside an
    atomic block both lock the tenant row first, so two concurrent creations cannot both take the
    last place.

Concurrent visitor sockets (ChatConsumer):
    `try_open_connection(tenant_id) -> bool` on auth (async: `atry_open_connection`); when
    False, close the socket with `PlanLimit.close_code` (4402). Call `close_connection(tenant_id)`
    (async: `aclose_connection`) exactly once for each successful open, on cleanup. The count is
    global across processes when Redis is configured. Before it, `aopen_address_place(tenant_id,
    address)` takes one of the places one address may hold (`PARLEY_ADDRESS_PLAN_SHARE` of the
    plan's, at least `PARLEY_ADDRESS_PLAN_MIN_PLACES`), raising `RateLimited` (close 4429) past
    them; `aclose_address_place(key)` gives it back.

Monthly messages (`widget.services.messages.message_post_many`, whoever writes):
    `MessageQuota(tenant_id).take(n)` counts the n new messages of a transaction, raising
    `PlanLimit` (counting none) past the plan's monthly limit; `give_back()` when the transaction
    does not commit. `try_count_message(tenant_id)` is the same check for one message. Counts are
    kept in process memory and written every few seconds; `flush_usage()` writes them now.

Usage summary (dashboard billing page): `usage_summary(tenant, members=...)` gives the plan and
    the usage against each limit; the invoices come from Stripe
    (`tenants.billing.selectors.tenant_invoices`).

From asyncio code (the sockets) use the `a`-prefixed variants: they never block the event loop.
The in-memory counters are plain memory; the database reads (a tenant's plan or month total,
once per cache period) run on the sockets' database thread (`core.db_thread`), and Redis through
redis-py's asyncio client. The sync variants are for sync code (views, services, database units).
"""

import hashlib
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import connection
from django.utils import timezone

from core.errors import PlanLimit, RateLimited
from tenants.billing import process_counters
from tenants.billing.plan_lookup import aplan_for, plan_cache_forget, plan_for
from tenants.billing.plans import UNLIMITED, Plan
from tenants.billing.process_counters import flush_usage
from tenants.billing.usage import month_of
from tenants.models import Site, Tenant

__all__ = [
    "MessageQuota",
    "Usage",
    "UsageSummary",
    "aclose_address_place",
    "aclose_connection",
    "address_places",
    "aopen_address_place",
    "aplan_for",
    "atry_open_connection",
    "close_connection",
    "ensure_can_add_agent",
    "ensure_can_add_site",
    "flush_usage",
    "monthly_messages_used",
    "plan_cache_forget",
    "plan_for",
    "try_count_message",
    "try_open_connection",
    "usage_summary",
]

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


def try_open_connection(tenant_id: int) -> bool:
    process_counters.background_ensure()
    limit = plan_for(tenant_id).concurrent_connections
    return process_counters.connections.try_open(tenant_id, limit)


async def atry_open_connection(tenant_id: int) -> bool:
    process_counters.background_ensure()
    plan = await aplan_for(tenant_id)
    return await process_counters.connections.atry_open(tenant_id, plan.concurrent_connections)


def close_connection(tenant_id: int) -> None:
    process_counters.connections.close(tenant_id)


async def aclose_connection(tenant_id: int) -> None:
    await process_counters.connections.aclose(tenant_id)


def address_places(plan: Plan) -> int | None:
    """How many of the plan's concurrent visitor places one address may hold (None: all)."""
    share = settings.ADDRESS_PLAN_SHARE
    if share >= 1:
        return None
    return max(settings.ADDRESS_PLAN_MIN_PLACES, math.floor(plan.concurrent_connections * share))


def _address_key(tenant_id: int, address: str) -> str:
    return f"{tenant_id}:address:{hashlib.sha256(address.encode()).hexdigest()[:32]}"


async def aopen_address_place(tenant_id: int, address: str) -> str | None:
    """Take one of the tenant's visitor places that `address` may hold, before
    `atry_open_connection`: one address (twenty sockets, two tokens) must not take every place
    of the plan from the tenant's real visitors. Returns the key to give back with
    `aclose_address_place`, or None when the share per address is not limited; raises
    `RateLimited` when the address already holds its share. Counted like the plan's places:
    across processes when Redis is configured."""
    process_counters.background_ensure()
    places = address_places(await aplan_for(tenant_id))
    if places is None:
        return None
    key = _address_key(tenant_id, address)
    if not await process_counters.connections.atry_open(key, places):
        raise RateLimited(
            f"At most {places} visitor sockets of this site from one address.",
            retry_after=settings.ADDRESS_PLACE_RETRY_SECONDS,
        )
    return key


async def aclose_address_place(key: str) -> None:
    await process_counters.connections.aclose(key)


# --- Monthly messages -----------------------------------------------------------------------------


def try_count_message(tenant_id: int, *, count: int = 1, now: datetime | None = None) -> bool:
    """Count `count` messages of the tenant this month (the month of `now`, UTC); False (none
    counted) when they do not all fit in the plan's monthly allowance."""
    process_counters.background_ensure()
    messages = process_counters.messages
    key = (tenant_id, month_of(now or timezone.now()))
    if not messages.knows(key):
        messages.load(key)
    return messages.try_count(key, plan_for(tenant_id).messages_per_month, count)


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
            process_counters.messages.give_back((self.tenant_id, month_of(self.now)), self.taken)
            self.taken = 0


# --- Usage summary --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Usage:
    name: str
    used: int | None  # None: not known now (its store cannot be reached)
    limit: int

    @property
    def unlimited(self) -> bool:
        return self.limit >= UNLIMITED

    @property
    def percent(self) -> int | None:
        if self.used is None:
            return None
        return min(100, round(100 * self.used / self.limit)) if self.limit else 100


@dataclass(frozen=True)
class UsageSummary:
    plan: Plan
    usage: list[Usage]
    history_days: int

    @property
    def history_unlimited(self) -> bool:
        return self.history_days >= UNLIMITED


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
                process_counters.connections.current(tenant.pk),
                plan.concurrent_connections,
            ),
            Usage(
                "Messages this month",
                process_counters.messages.used((tenant.pk, month_of(timezone.now()))),
                plan.messages_per_month,
            ),
        ],
        history_days=plan.history_days,
    )


def monthly_messages_used(tenant_id: int) -> Usage:
    """This month's messages against the plan's allowance (the dashboard's notice at 80%)."""
    plan = plan_for(tenant_id)
    used = process_counters.messages.used((tenant_id, month_of(timezone.now())))
    return Usage("Messages this month", used, plan.messages_per_month)
