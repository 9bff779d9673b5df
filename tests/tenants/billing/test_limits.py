"""Plan limits: sites, agents, concurrent visitor sockets and monthly messages.

The API and socket endpoints that call these are built elsewhere; these tests call the limit
functions the way those endpoints do.
"""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import tenant_context

from accounts.models import User
from accounts.selectors import member_count
from core.errors import PlanLimit
from tenants.billing import limits, process_counters
from tenants.billing.connection_counter import ConnectionCounter
from tenants.billing.limits import (
    aclose_connection,
    atry_open_connection,
    close_connection,
    ensure_can_add_agent,
    ensure_can_add_site,
    flush_usage,
    plan_for,
    try_count_message,
    try_open_connection,
)
from tenants.billing.models import BillingAccount, MonthlyUsage
from tenants.billing.plans import FREE, PRO
from tenants.billing.usage import MessageCounter, month_of
from tenants.services import site_create


@pytest.fixture(autouse=True)
def fresh_counters(monkeypatch, settings):
    """Counters of a freshly started process; Stripe configured (no call is made)."""
    settings.STRIPE_SECRET_KEY = "sk_test_not_called"
    monkeypatch.setattr(process_counters, "connections", ConnectionCounter())
    monkeypatch.setattr(process_counters, "messages", MessageCounter())


def subscribe_to_pro(tenant, **fields) -> None:
    BillingAccount.objects.update_or_create(
        tenant=tenant, defaults={"plan": "pro", "status": "active", **fields}
    )
    limits.plan_cache_forget(tenant.pk)


@pytest.mark.django_db
def test_a_site_past_the_plan_limit_is_refused_with_402(tenant_a):
    ensure_can_add_site(tenant_a)
    site_create(tenant=tenant_a, name="Shop", allowed_origins=["https://shop.example"])

    with pytest.raises(PlanLimit) as refused:
        ensure_can_add_site(tenant_a)
    assert (refused.value.code, refused.value.http_status) == ("plan_limit", 402)
    assert "1 site" in refused.value.message

    subscribe_to_pro(tenant_a)
    ensure_can_add_site(tenant_a)


@pytest.mark.django_db
def test_an_agent_past_the_plan_limit_is_refused(tenant_a):
    with tenant_context(tenant_a):
        User.objects.create_user(email="owner@alpha.test", password="x", role="owner")
        ensure_can_add_agent(tenant_a, count_members=lambda: member_count(tenant_a))
        # A pending invitation (inactive until accepted) takes the last seat of the free plan.
        User.objects.create_user(email="invited@alpha.test", password="x", is_active=False)
    with pytest.raises(PlanLimit):
        ensure_can_add_agent(tenant_a, count_members=lambda: member_count(tenant_a))


@pytest.mark.django_db
def test_the_connection_counter_refuses_past_the_limit_and_frees_on_close(tenant_a, tenant_b):
    opened = [try_open_connection(tenant_a.pk) for _ in range(FREE.concurrent_connections)]
    assert all(opened)
    assert try_open_connection(tenant_a.pk) is False
    assert try_open_connection(tenant_b.pk) is True  # another tenant's sockets are not counted

    close_connection(tenant_a.pk)
    assert try_open_connection(tenant_a.pk) is True
    assert try_open_connection(tenant_a.pk) is False


def statements(queries: CaptureQueriesContext) -> list[str]:
    """The SQL run, without the `SET search_path` django-tenants sends before each one."""
    return [query["sql"] for query in queries if not query["sql"].startswith("SET search_path")]


@pytest.mark.django_db
def test_messages_past_the_monthly_limit_are_refused_without_a_write_each(tenant_a):
    with CaptureQueriesContext(connection) as queries:
        counted = [try_count_message(tenant_a.pk) for _ in range(FREE.messages_per_month)]
        refused = try_count_message(tenant_a.pk)
    assert all(counted)
    assert refused is False
    # Two reads for 1001 messages: the plan (then cached) and the month's total written so far.
    sql = statements(queries)
    assert len(sql) == 2
    assert all(statement.startswith("SELECT") for statement in sql)
    assert not MonthlyUsage.objects.exists()


@pytest.mark.django_db
def test_message_usage_survives_a_flush(tenant_a):
    for _ in range(FREE.messages_per_month - 1):
        assert try_count_message(tenant_a.pk)
    with CaptureQueriesContext(connection) as queries:
        assert flush_usage() == FREE.messages_per_month - 1
    # One upsert for the tenant-month (inside a savepoint).
    assert [sql.split()[0] for sql in statements(queries)] == ["SAVEPOINT", "INSERT", "RELEASE"]
    month = month_of(timezone.now())
    assert MonthlyUsage.objects.get(tenant=tenant_a, month=month).messages == 999

    # A process started now reads the persisted total and allows exactly one more message.
    restarted = MessageCounter()
    restarted.load((tenant_a.pk, month))
    assert restarted.try_count((tenant_a.pk, month), FREE.messages_per_month) is True
    assert restarted.try_count((tenant_a.pk, month), FREE.messages_per_month) is False
    # This process counts on from the total, then adds its own new counts to it.
    assert try_count_message(tenant_a.pk) is True
    assert flush_usage() == 1
    assert restarted.flush() == 1
    assert MonthlyUsage.objects.get(tenant=tenant_a, month=month).messages == 1001


@pytest.mark.django_db
def test_the_monthly_allowance_starts_again_each_month(tenant_a):
    last_minute = datetime(2026, 11, 30, 23, 59, tzinfo=UTC)
    for _ in range(FREE.messages_per_month):
        assert try_count_message(tenant_a.pk, now=last_minute)
    assert try_count_message(tenant_a.pk, now=last_minute) is False

    assert try_count_message(tenant_a.pk, now=last_minute + timedelta(minutes=1)) is True
    flush_usage()
    by_month = dict(MonthlyUsage.objects.filter(tenant=tenant_a).values_list("month", "messages"))
    assert by_month == {date(2026, 11, 1): 1000, date(2026, 12, 1): 1}


@pytest.mark.django_db
def test_two_processes_share_the_monthly_total_through_flushes(tenant_a):
    key = (tenant_a.pk, month_of(timezone.now()))
    first, second = MessageCounter(), MessageCounter()
    for counter in (first, second):
        counter.load(key)
        for _ in range(600):
            assert counter.try_count(key, FREE.messages_per_month)
    first.flush()
    second.flush()
    assert second.used(key) == 1200
    # The first learns the other's share at its next flush: then it refuses, 200 over the limit
    # (at most what the other processes count in one flush interval).
    assert first.used(key) == 600
    first.flush()
    assert first.used(key) == 1200
    assert first.try_count(key, FREE.messages_per_month) is False


@pytest.mark.django_db
def test_the_plan_is_cached_and_a_failed_payment_counts_only_during_the_grace(
    tenant_a, tenant_b, django_assert_num_queries
):
    subscribe_to_pro(tenant_a, payment_failed_at=datetime.now(UTC) - timedelta(days=1))
    subscribe_to_pro(tenant_b, payment_failed_at=datetime.now(UTC) - timedelta(days=8))
    assert plan_for(tenant_a.pk) == PRO
    assert plan_for(tenant_b.pk) == FREE
    with django_assert_num_queries(0):
        assert plan_for(tenant_a.pk) == PRO


@pytest.mark.django_db(transaction=True)
async def test_the_async_connection_counter_enforces_the_same_limit(tenant_a):
    for _ in range(FREE.concurrent_connections):
        assert await atry_open_connection(tenant_a.pk)
    assert await atry_open_connection(tenant_a.pk) is False
    await aclose_connection(tenant_a.pk)
    assert await atry_open_connection(tenant_a.pk)
