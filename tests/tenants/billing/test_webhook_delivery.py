"""Stripe's webhook delivery end to end: localstripe POSTs signed events to a running Parley.

localstripe signs each delivery with the configured secret exactly as Stripe does
(`Stripe-Signature: t=..,v1=..`); Parley verifies it with `stripe.Webhook.construct_event`.
"""

import time

import pytest

from tenants.billing.limits import plan_for
from tenants.billing.models import BillingAccount, ProcessedStripeEvent
from tenants.billing.plans import FREE, PRO
from tenants.billing.services import stripe_customer_ensure
from tests.tenants.billing.conftest import WEBHOOK_SECRET, stripe_test_client, subscribe

SUBSCRIPTION_EVENTS = [
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
    "invoice.payment_succeeded",
    "invoice.payment_failed",
]


def wait_for(condition, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the webhook never arrived"
        time.sleep(0.1)


@pytest.fixture
def webhook_to(localstripe):
    def register(live_server) -> None:
        localstripe.register_webhook(
            url=f"{live_server.url}/billing/stripe/webhook",
            secret=WEBHOOK_SECRET,
            events=SUBSCRIPTION_EVENTS,
        )

    yield register
    localstripe.reset()


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_localstripe_delivers_signed_events_that_move_the_plan(
    live_server, stripe_settings, localstripe, webhook_to, make_tenant
):
    tenant = make_tenant("gamma")
    webhook_to(live_server)
    stripe = stripe_test_client(localstripe)
    assert plan_for(tenant.pk) == FREE  # now cached in this process

    subscription_id = subscribe(stripe, stripe_customer_ensure(tenant=tenant))

    def account():
        return BillingAccount.objects.get(tenant=tenant)

    wait_for(lambda: account().plan == "pro")
    assert account().stripe_subscription_id == subscription_id
    # The server (a thread of this process) forgot the cached plan when its change committed.
    assert plan_for(tenant.pk) == PRO

    stripe.v1.subscriptions.cancel(subscription_id)

    wait_for(lambda: account().status == "canceled")
    assert account().plan == "free"
    assert plan_for(tenant.pk) == FREE

    # An `updated` event re-fetches the subscription, already canceled, so the plan may change
    # before the `deleted` event itself has arrived: wait for it too.
    def processed() -> set[str]:
        return set(ProcessedStripeEvent.objects.values_list("type", flat=True))

    wait_for(lambda: "customer.subscription.deleted" in processed())
    assert "customer.subscription.created" in processed()
