"""Forged and replayed Stripe webhooks (`POST /billing/stripe/webhook`), against a real localstripe.

A forged delivery (no, a wrong or a stale signature) is 400 and changes nothing; a replayed one
(the same event id) is processed once. Stripe's library verifies the signature (HMAC-SHA256
over "<t>.<raw body>", compared in constant time: tests/security/test_constant_time.py) and
refuses a `t` more than 300 s from now.
"""

import hashlib
import hmac
import json
import time

import pytest

from tenants.billing.models import BillingAccount, ProcessedStripeEvent
from tenants.billing.services import stripe_customer_ensure
from tests.tenants.billing.conftest import (  # noqa: F401 (fixtures)
    WEBHOOK_SECRET,
    latest_event,
    stripe_settings,
    stripe_test_client,
    subscribe,
)
from tests.tenants.billing.conftest import deliver as deliver

pytestmark = pytest.mark.django_db


def signed_at(payload: bytes, timestamp: int, secret: str = WEBHOOK_SECRET) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


@pytest.fixture
def event(stripe_settings, localstripe, tenant_a) -> dict:  # noqa: F811 (stripe_settings)
    """A genuine `customer.subscription.created` of tenant A, not yet delivered."""
    client = stripe_test_client(localstripe)
    subscription_id = subscribe(client, stripe_customer_ensure(tenant=tenant_a))
    return latest_event(client, "customer.subscription.created", subscription_id)


def nothing_changed(tenant) -> bool:
    account = BillingAccount.objects.get(tenant=tenant)
    return (
        not ProcessedStripeEvent.objects.exists()
        and account.plan == "free"
        and account.stripe_subscription_id == ""
    )


def test_forged_deliveries_are_refused_and_change_nothing(deliver, event, tenant_a):
    payload = json.dumps(event).encode()
    now = int(time.time())
    tampered = json.dumps({**event, "type": "customer.subscription.deleted"}).encode()
    forgeries = {
        "no signature": deliver(event, signature=""),
        "another secret": deliver(event, secret="whsec_attacker"),
        "signature of another body": deliver(
            json.loads(tampered), signature=signed_at(payload, now)
        ),
        "v0 scheme only": deliver(event, signature=f"t={now},v0=" + "0" * 64),
        "garbage header": deliver(event, signature="t=abc,v1=xyz"),
        "too old, genuinely signed": deliver(event, signature=signed_at(payload, now - 301)),
    }
    for name, response in forgeries.items():
        assert response.status_code == 400, name
        assert response.json()["error"]["code"] == "bad_request", name
    assert nothing_changed(tenant_a)


def test_a_replayed_event_is_processed_once(deliver, event, tenant_a):
    first, replay, again = deliver(event), deliver(event), deliver(event)
    assert first.json()["outcome"] == "processed"
    assert replay.json()["outcome"] == again.json()["outcome"] == "duplicate"
    assert ProcessedStripeEvent.objects.filter(event_id=event["id"]).count() == 1
    assert BillingAccount.objects.get(tenant=tenant_a).plan == "pro"


def test_a_delivery_replayed_after_the_tolerance_is_refused(deliver, event, tenant_a):
    """Someone who captured a delivery (body and header) cannot replay it later, even for an
    event id Parley never processed."""
    payload = json.dumps(event).encode()
    captured = signed_at(payload, int(time.time()) - 600)
    response = deliver(event, signature=captured)
    assert response.status_code == 400
    assert nothing_changed(tenant_a)
