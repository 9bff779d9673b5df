"""Which plan applies: without billing, the installation's default (`PARLEY_DEFAULT_PLAN`, by
default the unlimited self-hosted plan); with billing, Stripe's; and an operator's grant over
both until it ends."""

from datetime import UTC, datetime, timedelta

import pytest

from core.errors import BadRequest
from tenants.billing import limits
from tenants.billing.models import BillingAccount
from tenants.billing.plans import FREE, PRO, SELF_HOSTED, UNLIMITED
from tenants.billing.services import plan_grant

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def fresh_plans():
    limits.plan_cache_forget()
    yield
    limits.plan_cache_forget()


def test_without_billing_a_tenant_is_on_the_unlimited_self_hosted_plan(tenant_a, settings):
    settings.STRIPE_SECRET_KEY = ""
    settings.DEFAULT_PLAN = "self-hosted"
    plan = limits.plan_for(tenant_a.pk)
    assert plan == SELF_HOSTED
    assert plan.concurrent_connections == plan.messages_per_month == UNLIMITED
    # 100 sockets and 5,000 messages in a month: nothing refuses them.
    assert all(limits.try_open_connection(tenant_a.pk) for _ in range(100))
    assert limits.try_count_message(tenant_a.pk, count=5_000)


def test_the_default_plan_is_the_installations_choice(tenant_a, settings):
    settings.STRIPE_SECRET_KEY = ""
    settings.DEFAULT_PLAN = "pro"
    assert limits.plan_for(tenant_a.pk) == PRO


def test_an_operators_grant_wins_over_stripe_until_it_ends(tenant_a, on_plan, settings):
    on_plan(tenant_a, "free")  # billing configured, no paid subscription
    assert limits.plan_for(tenant_a.pk) == FREE
    until = datetime.now(UTC) + timedelta(days=30)
    plan_grant(tenant_id=tenant_a.pk, plan_code="pro", until=until)
    assert limits.plan_for(tenant_a.pk) == PRO

    BillingAccount.objects.filter(tenant=tenant_a).update(
        granted_until=datetime.now(UTC) - timedelta(seconds=1)
    )
    limits.plan_cache_forget(tenant_a.pk)
    assert limits.plan_for(tenant_a.pk) == FREE  # ended: Stripe's plan again


def test_a_grant_is_taken_back_and_bad_grants_are_refused(tenant_a, settings):
    settings.STRIPE_SECRET_KEY = ""
    settings.DEFAULT_PLAN = "free"
    plan_grant(tenant_id=tenant_a.pk, plan_code="business")
    assert limits.plan_for(tenant_a.pk).code == "business"
    plan_grant(tenant_id=tenant_a.pk, plan_code="")
    assert limits.plan_for(tenant_a.pk) == FREE
    with pytest.raises(BadRequest):
        plan_grant(tenant_id=tenant_a.pk, plan_code="platinum")
    with pytest.raises(BadRequest):
        plan_grant(
            tenant_id=tenant_a.pk, plan_code="pro", until=datetime.now(UTC) - timedelta(days=1)
        )
