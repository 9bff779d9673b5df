"""Which plan applies to a tenant now, and the per-process cache that keeps it cheap to ask.

Which plan: an operator's grant while it lasts (`BillingAccount.granted_plan`), else with billing
configured the Stripe subscription's (or the free plan), else `PARLEY_DEFAULT_PLAN`.

`plan_for(tenant_id)` (async: `await aplan_for(tenant_id)`) reads the tenant's billing account
once every `BILLING_PLAN_CACHE_SECONDS` (30 s) and answers from process memory in between. The
billing services forget a tenant's entry (`plan_cache_forget`) when its billing state changes in
this process; other processes see the change within that time. The grace period after a failed
payment is applied when read: a cached entry never outlives the end of the grace period.
"""

from django.conf import settings
from django.utils import timezone

from core.caches import MISSING, ProcessCache
from core.db_thread import in_public
from tenants.billing.models import BillingAccount
from tenants.billing.plans import DEFAULT_PLAN, Plan, unbilled_plan
from tenants.billing.stripe_api import billing_configured

# tenant id -> its plan; each entry lives for the lifetime `_plan_from_database` gives it
_plans: ProcessCache[int, Plan] = ProcessCache(
    "plans", maxsize=100_000, ttl=settings.BILLING_PLAN_CACHE_SECONDS
)


def plan_for(tenant_id: int) -> Plan:
    """The plan that applies to the tenant now (cached in process; see the module docstring)."""
    plan = _plans.get(tenant_id, MISSING)
    if plan is MISSING:
        plan, seconds_valid = _plan_from_database(tenant_id)
        _plans.set(tenant_id, plan, ttl=seconds_valid)
    return plan


async def aplan_for(tenant_id: int) -> Plan:
    """`plan_for` for async code: a cache hit costs no thread hop."""
    plan = _plans.get(tenant_id, MISSING)
    if plan is not MISSING:
        return plan
    return await in_public(plan_for, tenant_id=tenant_id)


def plan_cache_forget(tenant_id: int | None = None) -> None:
    """Drop the cached plan of one tenant (of all when None): the next read asks the database."""
    if tenant_id is None:
        _plans.clear()
    else:
        _plans.pop(tenant_id)


def _plan_from_database(tenant_id: int) -> tuple[Plan, float]:
    """The plan and how long it may be cached: an operator's grant while it lasts, else
    Stripe's (billing configured) or the installation's default plan."""
    ttl = settings.BILLING_PLAN_CACHE_SECONDS
    # Billing tables live in the public schema, which is on every tenant's search path: this read
    # works whatever tenant the connection is set to, and needs no schema switch.
    account = BillingAccount.objects.filter(tenant_id=tenant_id).first()
    now = timezone.now()
    if account is not None and (granted := account.grant_at(now)) is not None:
        if account.granted_until is not None:
            ttl = min(ttl, (account.granted_until - now).total_seconds())
        return granted, ttl
    if not billing_configured():
        return unbilled_plan(), ttl
    if account is None:
        return DEFAULT_PLAN, ttl
    grace_ends_at = account.grace_ends_at()
    if grace_ends_at is not None and grace_ends_at > now:
        ttl = min(ttl, (grace_ends_at - now).total_seconds())
    return account.effective_plan(now), ttl
