"""Parley's plans and their limits, defined in code.

A plan is sold through a Stripe price (or a legacy Stripe plan id) named by configuration
(`STRIPE_PRICE_PRO`, `STRIPE_PRICE_BUSINESS`). The free plan has no price: it applies to every
tenant without a paid subscription in good standing. Where Stripe is not configured, every tenant
is on the plan named by `PARLEY_DEFAULT_PLAN` (by default the unlimited self-hosted plan). An
operator can put any tenant on any plan, until a date or for good (`BillingAccount.granted_plan`),
and that wins over both until it ends.
"""

from dataclasses import dataclass

from django.conf import settings

# A limit that is no limit: large enough never to be reached, small enough for PostgreSQL's
# integers and for arithmetic (a share of it, a percentage).
UNLIMITED = 1_000_000_000


@dataclass(frozen=True)
class Plan:
    code: str
    name: str
    monthly_price_usd: int
    sites: int
    agents: int
    concurrent_connections: int
    messages_per_month: int
    history_days: int
    # The settings name holding the Stripe price id; None for the free plan.
    price_setting: str | None = None
    # The largest attachment, in bytes (and never past PARLEY_ATTACHMENT_MAX_BYTES).
    attachment_max_bytes: int = UNLIMITED

    @property
    def stripe_price_id(self) -> str:
        return getattr(settings, self.price_setting, "") if self.price_setting else ""

    @property
    def is_paid(self) -> bool:
        return self.price_setting is not None

    @property
    def is_unlimited(self) -> bool:
        return self.messages_per_month >= UNLIMITED


FREE = Plan(
    code="free",
    name="Free",
    monthly_price_usd=0,
    sites=1,
    agents=2,
    concurrent_connections=20,
    messages_per_month=1_000,
    history_days=30,
    attachment_max_bytes=2 * 1024 * 1024,
)
PRO = Plan(
    code="pro",
    name="Pro",
    monthly_price_usd=29,
    sites=5,
    agents=10,
    concurrent_connections=500,
    messages_per_month=50_000,
    history_days=365,
    price_setting="STRIPE_PRICE_PRO",
)
BUSINESS = Plan(
    code="business",
    name="Business",
    monthly_price_usd=149,
    sites=50,
    agents=100,
    concurrent_connections=5_000,
    messages_per_month=1_000_000,
    history_days=3 * 365,
    price_setting="STRIPE_PRICE_BUSINESS",
)

# Sold by contract: a tenant is put on it by its billing account (or by a Stripe price when
# STRIPE_PRICE_ENTERPRISE names one). The benchmark runs its tenant on it.
ENTERPRISE = Plan(
    code="enterprise",
    name="Enterprise",
    monthly_price_usd=0,
    sites=1_000,
    agents=1_000,
    concurrent_connections=100_000,
    messages_per_month=100_000_000,
    history_days=7 * 365,
    price_setting="STRIPE_PRICE_ENTERPRISE",
)

# An installation that bills nobody (Stripe not configured: self-hosted, `make run`): no limit of
# the plan's own; the abuse budgets still apply (docs/SECURITY.md).
SELF_HOSTED = Plan(
    code="self-hosted",
    name="Self-hosted",
    monthly_price_usd=0,
    sites=UNLIMITED,
    agents=UNLIMITED,
    concurrent_connections=UNLIMITED,
    messages_per_month=UNLIMITED,
    history_days=UNLIMITED,
)

PLANS: dict[str, Plan] = {
    plan.code: plan for plan in (FREE, PRO, BUSINESS, ENTERPRISE, SELF_HOSTED)
}
# The plan of a tenant with no paid subscription in good standing, where billing is configured.
DEFAULT_PLAN = FREE


def unbilled_plan() -> Plan:
    """The plan of every tenant where billing is not configured: `PARLEY_DEFAULT_PLAN`."""
    return PLANS.get(settings.DEFAULT_PLAN, SELF_HOSTED)


def plan_named(code: str) -> Plan:
    """The plan with this code; an unknown code (a plan since retired) gives the default plan."""
    return PLANS.get(code, DEFAULT_PLAN)


def plan_for_price(price_id: str) -> Plan | None:
    """The paid plan sold through this Stripe price or plan id, if any."""
    for plan in PLANS.values():
        if plan.is_paid and price_id and plan.stripe_price_id == price_id:
            return plan
    return None


def paid_plans() -> list[Plan]:
    """The plans a tenant can buy: those with a configured Stripe price."""
    return [plan for plan in PLANS.values() if plan.is_paid and plan.stripe_price_id]
