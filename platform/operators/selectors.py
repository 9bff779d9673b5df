"""What an operator reads of a tenant: its plan and where the plan comes from, its status and
its usage now and this month. Reads across the layers (billing, people, the chat): the operator's
view sits above all of them."""

from dataclasses import asdict, dataclass
from datetime import datetime

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from accounts.selectors import member_count
from tenants.billing import limits, process_counters
from tenants.billing.models import BillingAccount
from tenants.billing.stripe_api import billing_configured
from tenants.billing.usage import month_of
from tenants.models import Site, Tenant


@dataclass(frozen=True)
class TenantOverview:
    id: int
    slug: str
    name: str
    created_at: datetime
    plan: str
    plan_source: str  # "operator" (a grant), "stripe" or "default"
    plan_until: datetime | None
    suspended_at: datetime | None
    suspended_reason: str
    sites: int
    agents: int
    visitor_sockets: int | None  # None: not known now (Redis away)
    messages_this_month: int

    def as_json(self) -> dict:
        return {
            key: value.isoformat() if isinstance(value, datetime) else value
            for key, value in asdict(self).items()
        }


def _plan_source(account: BillingAccount | None, now: datetime) -> tuple[str, datetime | None]:
    if account is not None and account.grant_at(now) is not None:
        return "operator", account.granted_until
    if billing_configured() and account is not None and account.stripe_subscription_id:
        return "stripe", None
    return "default", None


def tenant_overview(tenant: Tenant) -> TenantOverview:
    now = timezone.now()
    account = BillingAccount.objects.filter(tenant=tenant).first()
    source, until = _plan_source(account, now)
    return TenantOverview(
        id=tenant.pk,
        slug=tenant.slug,
        name=tenant.name,
        created_at=tenant.created_at,
        plan=limits.plan_for(tenant.pk).code,
        plan_source=source,
        plan_until=until,
        suspended_at=tenant.suspended_at,
        suspended_reason=tenant.suspended_reason,
        sites=Site.objects.filter(tenant=tenant).count(),
        agents=member_count(tenant),
        visitor_sockets=process_counters.connections.current(tenant.pk),
        messages_this_month=process_counters.messages.used((tenant.pk, month_of(now))),
    )


def tenants_matching(query: str = "") -> list[Tenant]:
    """The tenants (the public schema's own row excepted) whose slug, name or host name contains
    `query`, newest first."""
    tenants = Tenant.objects.exclude(schema_name=settings.PUBLIC_SCHEMA_NAME)
    if query:
        tenants = tenants.filter(
            Q(slug__icontains=query)
            | Q(name__icontains=query)
            | Q(domains__domain__icontains=query)
        ).distinct()
    return list(tenants.order_by("-created_at", "-pk"))
