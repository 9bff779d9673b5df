"""Billing services against a real localstripe: customers, subscriptions, invoices, webhooks.

Events are the ones localstripe generated (`GET /v1/events`), delivered to the webhook endpoint
with a real Stripe signature. Where localstripe cannot produce an event (it sends no
`customer.subscription.updated`, no `checkout.session.completed`, and no `invoice.payment_failed`
for a declined card on a renewal), the test builds it around objects that do exist in localstripe,
as Stripe would send it, and says so.
"""

import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command

from tenants.billing.limits import plan_for
from tenants.billing.models import BillingAccount, ProcessedStripeEvent
from tenants.billing.plans import BUSINESS, FREE, PRO
from tenants.billing.services import billing_grace_expire, stripe_customer_ensure
from tests.tenants.billing.conftest import (
    BUSINESS_PLAN_ID,
    add_card,
    latest_event,
    signature_for,
    stripe_test_client,
    subscribe,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def stripe(stripe_settings, localstripe):
    return stripe_test_client(localstripe)


def built_event(event_type: str, stripe_object: dict, *, created: int | None = None) -> dict:
    return {
        "id": f"evt_built_{uuid.uuid4().hex[:16]}",
        "object": "event",
        "type": event_type,
        "created": created if created is not None else int(time.time()),
        "data": {"object": stripe_object},
    }


def account_of(tenant) -> BillingAccount:
    return BillingAccount.objects.get(tenant=tenant)


def subscribed_tenant(deliver, stripe, tenant) -> str:
    """The tenant subscribed to Pro in localstripe, and the `created` event delivered."""
    subscription_id = subscribe(stripe, stripe_customer_ensure(tenant=tenant))
    created = latest_event(stripe, "customer.subscription.created", subscription_id)
    assert deliver(created).status_code == 200
    return subscription_id


def test_a_tenant_gets_one_stripe_customer_on_first_need(stripe, tenant_a):
    customer_id = stripe_customer_ensure(tenant=tenant_a)
    assert stripe_customer_ensure(tenant=tenant_a) == customer_id
    customer = stripe.v1.customers.retrieve(customer_id)
    assert customer.metadata["tenant_id"] == str(tenant_a.pk)
    assert customer.name == tenant_a.name


def test_a_subscription_puts_the_tenant_on_its_plan(deliver, stripe, tenant_a):
    assert plan_for(tenant_a.pk) == FREE
    subscription_id = subscribed_tenant(deliver, stripe, tenant_a)
    account = account_of(tenant_a)
    assert (account.plan, account.status) == ("pro", "active")
    assert account.stripe_subscription_id == subscription_id
    assert account.current_period_end > datetime.now(UTC) + timedelta(days=25)
    assert plan_for(tenant_a.pk) == PRO


def test_a_bad_signature_is_refused_and_changes_nothing(deliver, stripe, tenant_a):
    subscription_id = subscribe(stripe, stripe_customer_ensure(tenant=tenant_a))
    event = latest_event(stripe, "customer.subscription.created", subscription_id)

    wrong_secret = deliver(event, secret="whsec_someone_else")
    no_signature = deliver(event, signature="")
    event["data"]["object"]["status"] = "active"
    tampered = deliver(event, signature=signature_for(b'{"id": "evt_other"}'))

    for response in (wrong_secret, no_signature, tampered):
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "bad_request"
    assert not ProcessedStripeEvent.objects.exists()
    assert account_of(tenant_a).plan == "free"
    assert account_of(tenant_a).stripe_subscription_id == ""


def test_the_same_event_twice_is_processed_once(deliver, stripe, tenant_a):
    subscription_id = subscribe(stripe, stripe_customer_ensure(tenant=tenant_a))
    created = latest_event(stripe, "customer.subscription.created", subscription_id)
    first = deliver(created)
    # Cancelled since: were the event processed again, its re-fetch would now see it cancelled.
    stripe.v1.subscriptions.cancel(subscription_id)
    second = deliver(created)

    assert (first.status_code, first.json()["outcome"]) == (200, "processed")
    assert (second.status_code, second.json()["outcome"]) == (200, "duplicate")
    assert ProcessedStripeEvent.objects.filter(event_id=created["id"]).count() == 1
    assert account_of(tenant_a).plan == "pro"


def test_deleted_before_an_older_updated_ends_on_the_free_plan(deliver, stripe, tenant_a):
    subscription_id = subscribed_tenant(deliver, stripe, tenant_a)
    active = stripe.v1.subscriptions.retrieve(subscription_id).to_dict()
    stripe.v1.subscriptions.cancel(subscription_id)
    deleted = latest_event(stripe, "customer.subscription.deleted", subscription_id)
    # localstripe sends no `updated`; this one, emitted before the cancellation, arrives last.
    late_updated = built_event(
        "customer.subscription.updated", active, created=deleted["created"] - 5
    )

    assert deliver(deleted).status_code == 200
    assert deliver(late_updated).status_code == 200

    account = account_of(tenant_a)
    assert (account.plan, account.status, account.stripe_subscription_id) == (
        "free",
        "canceled",
        "",
    )
    assert plan_for(tenant_a.pk) == FREE


def test_an_updated_event_of_the_same_second_is_checked_against_stripe(deliver, stripe, tenant_a):
    subscription_id = subscribed_tenant(deliver, stripe, tenant_a)
    active = stripe.v1.subscriptions.retrieve(subscription_id).to_dict()
    stripe.v1.subscriptions.cancel(subscription_id)
    deleted = latest_event(stripe, "customer.subscription.deleted", subscription_id)
    # Same timestamp: ordering cannot tell them apart; the subscription as Stripe holds it can.
    updated = built_event("customer.subscription.updated", active, created=deleted["created"])

    deliver(deleted)
    deliver(updated)

    assert account_of(tenant_a).plan == "free"


def test_a_plan_change_in_stripe_changes_the_plan(deliver, stripe, tenant_a):
    subscription_id = subscribed_tenant(deliver, stripe, tenant_a)
    changed = stripe.v1.subscriptions.update(
        subscription_id, params={"items": [{"plan": BUSINESS_PLAN_ID}]}
    )
    # localstripe sends no `updated` event: it is built as Stripe sends it after a Portal change.
    deliver(built_event("customer.subscription.updated", changed.to_dict()))

    assert account_of(tenant_a).plan == "business"
    assert plan_for(tenant_a.pk) == BUSINESS


def test_checkout_completed_links_a_new_customer_to_its_tenant(deliver, stripe, tenant_a):
    # localstripe has no Checkout: the customer and subscription Checkout would create are made
    # directly, then the `checkout.session.completed` event Stripe would send is built around them.
    customer = stripe.v1.customers.create(params={"email": "owner@alpha.test"})
    subscription_id = subscribe(stripe, customer.id)
    session = {
        "id": "cs_test_built",
        "object": "checkout.session",
        "mode": "subscription",
        "customer": customer.id,
        "subscription": subscription_id,
        "client_reference_id": str(tenant_a.pk),
    }

    assert deliver(built_event("checkout.session.completed", session)).status_code == 200

    account = account_of(tenant_a)
    assert account.stripe_customer_id == customer.id
    assert (account.plan, account.stripe_subscription_id) == ("pro", subscription_id)


def test_a_failed_payment_downgrades_after_the_grace_period(deliver, stripe, tenant_a, settings):
    subscription_id = subscribed_tenant(deliver, stripe, tenant_a)
    customer_id = account_of(tenant_a).stripe_customer_id
    # The renewal is charged to a card that is declined: the invoice stays open, unpaid.
    add_card(stripe, customer_id, number="4000000000000341")
    stripe.v1.invoice_items.create(
        params={"customer": customer_id, "amount": 2900, "currency": "usd"}
    )
    invoice = stripe.v1.invoices.create(
        params={"customer": customer_id, "subscription": subscription_id}
    )
    assert stripe.v1.invoices.pay(invoice.id).status == "open"
    # localstripe only reports card declines synchronously, without an event: built here.
    failed = built_event(
        "invoice.payment_failed", stripe.v1.invoices.retrieve(invoice.id).to_dict()
    )
    assert deliver(failed).status_code == 200
    # The first invoice's payment, older than the failure, arrives late: the grace stays.
    invoices = stripe.v1.invoices.list(params={"customer": customer_id}).data
    (first_invoice,) = [other.id for other in invoices if other.id != invoice.id]
    paid_before = latest_event(stripe, "invoice.payment_succeeded", first_invoice)
    paid_before["created"] = failed["created"] - 60
    deliver(paid_before)

    account = account_of(tenant_a)
    failed_at = datetime.fromtimestamp(failed["created"], tz=UTC)
    assert account.payment_failed_at == failed_at
    assert settings.BILLING_GRACE_DAYS == 7
    assert account.effective_plan(failed_at + timedelta(days=6, hours=23)) == PRO
    assert account.effective_plan(failed_at + timedelta(days=7)) == FREE
    assert billing_grace_expire(now=failed_at + timedelta(days=6)) == []
    assert billing_grace_expire(now=failed_at + timedelta(days=7, seconds=1)) == [tenant_a.pk]
    assert account_of(tenant_a).plan == "free"
    assert plan_for(tenant_a.pk) == FREE

    # The customer fixes the card; the invoice is paid and the plan comes back.
    add_card(stripe, customer_id)
    stripe.v1.invoices.pay(invoice.id)
    deliver(latest_event(stripe, "invoice.payment_succeeded", invoice.id))
    account = account_of(tenant_a)
    assert (account.plan, account.payment_failed_at) == ("pro", None)
    assert plan_for(tenant_a.pk) == PRO


def test_the_grace_command_downgrades_only_expired_accounts(stripe, tenant_a, tenant_b, capsys):
    long_ago = datetime.now(UTC) - timedelta(days=8)
    BillingAccount.objects.create(
        tenant=tenant_a, plan="pro", status="past_due", payment_failed_at=long_ago
    )
    BillingAccount.objects.create(
        tenant=tenant_b, plan="pro", status="past_due", payment_failed_at=datetime.now(UTC)
    )
    call_command("billing_expire_grace")
    assert "1 tenant(s) moved to the free plan." in capsys.readouterr().out
    assert account_of(tenant_a).plan == "free"
    assert account_of(tenant_b).plan == "pro"


def test_unknown_event_types_are_answered_200_and_ignored(deliver, stripe):
    response = deliver(built_event("customer.discount.created", {"id": "di_1"}))
    assert (response.status_code, response.json()["outcome"]) == (200, "ignored")
    assert not ProcessedStripeEvent.objects.exists()


def test_without_stripe_every_tenant_is_on_the_free_plan(settings, tenant_a):
    settings.STRIPE_SECRET_KEY = ""
    BillingAccount.objects.create(tenant=tenant_a, plan="business", status="active")
    assert plan_for(tenant_a.pk) == FREE


def test_a_signed_body_that_is_no_event_is_refused(deliver, client, stripe):
    not_an_event = deliver({"id": "evt_1", "type": "invoice.paid", "data": "not an object"})
    not_json = client.post(
        "/billing/stripe/webhook",
        data=b"{not json",
        content_type="application/json",
        HTTP_HOST="localhost",
        HTTP_STRIPE_SIGNATURE=signature_for(b"{not json"),
    )
    for response in (not_an_event, not_json):
        assert response.status_code == 400
        assert response.json()["error"] == {
            "code": "bad_request",
            "message": "The body is not a Stripe event.",
        }


def test_an_event_is_not_lost_while_stripe_is_unreachable(deliver, stripe, settings, tenant_a):
    subscription_id = subscribe(stripe, stripe_customer_ensure(tenant=tenant_a))
    created = latest_event(stripe, "customer.subscription.created", subscription_id)
    reachable = settings.STRIPE_API_BASE
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"  # nothing listens on the discard port

    refused = deliver(created)
    assert refused.status_code == 502
    assert refused.json()["error"]["code"] == "payment_provider_error"
    assert not ProcessedStripeEvent.objects.filter(event_id=created["id"]).exists()

    settings.STRIPE_API_BASE = reachable
    assert deliver(created).json()["outcome"] == "processed"  # Stripe's retry
    assert account_of(tenant_a).plan == "pro"


def test_a_failure_reported_after_the_invoice_was_paid_starts_no_grace(deliver, stripe, tenant_a):
    subscription_id = subscribed_tenant(deliver, stripe, tenant_a)
    customer_id = account_of(tenant_a).stripe_customer_id
    add_card(stripe, customer_id, number="4000000000000341")
    stripe.v1.invoice_items.create(
        params={"customer": customer_id, "amount": 2900, "currency": "usd"}
    )
    invoice = stripe.v1.invoices.create(
        params={"customer": customer_id, "subscription": subscription_id}
    )
    stripe.v1.invoices.pay(invoice.id)
    failed = built_event(
        "invoice.payment_failed", stripe.v1.invoices.retrieve(invoice.id).to_dict()
    )
    add_card(stripe, customer_id)
    stripe.v1.invoices.pay(invoice.id)  # paid before the failure's delivery arrives

    deliver(failed)

    assert account_of(tenant_a).payment_failed_at is None
