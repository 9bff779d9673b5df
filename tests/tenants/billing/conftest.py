"""Billing fixtures: a real localstripe server, Stripe settings pointing at it, signed events."""

import hashlib
import hmac
import json
import time

import pytest
import stripe
from django.test import Client
from django_tenants.utils import tenant_context

from accounts.models import Role, User
from tenants.billing.limits import plan_cache_forget
from tenants.services import public_tenant_ensure

WEBHOOK_SECRET = "whsec_parley_tests"
PRO_PLAN_ID = "parley-pro-monthly"
BUSINESS_PLAN_ID = "parley-business-monthly"


def dashboard_client(tenant, role: str) -> Client:
    """A browser signed in to the tenant's dashboard as a user with this role."""
    email = f"{role}@{tenant.slug}.test"
    with tenant_context(tenant):
        if not User.objects.filter(email=email).exists():
            User.objects.create_user(email=email, password="billing-test-pw-1", role=role)
    browser = Client(HTTP_HOST=f"{tenant.slug}.localhost")
    signed_in = browser.post("/login/", {"username": email, "password": "billing-test-pw-1"})
    assert signed_in.status_code == 302
    return browser


@pytest.fixture
def owner(tenant_a) -> Client:
    return dashboard_client(tenant_a, Role.OWNER)


@pytest.fixture(autouse=True)
def _fresh_plan_cache():
    plan_cache_forget()
    yield
    plan_cache_forget()


@pytest.fixture
def stripe_settings(settings, localstripe):
    """Parley configured for Stripe, talking to localstripe, with its plans created there."""
    settings.STRIPE_SECRET_KEY = "sk_test_parley"
    settings.STRIPE_API_BASE = localstripe.url
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.STRIPE_PRICE_PRO = PRO_PLAN_ID
    settings.STRIPE_PRICE_BUSINESS = BUSINESS_PLAN_ID
    client = stripe_test_client(localstripe)
    for plan_id, amount in ((PRO_PLAN_ID, 2900), (BUSINESS_PLAN_ID, 14900)):
        try:
            client.v1.plans.retrieve(plan_id)
        except stripe.InvalidRequestError:
            product = client.v1.products.create(params={"name": plan_id})
            client.v1.plans.create(
                params={
                    "id": plan_id,
                    "product": product.id,
                    "amount": amount,
                    "currency": "usd",
                    "interval": "month",
                }
            )
    return settings


def stripe_test_client(localstripe) -> stripe.StripeClient:
    """What the test does in Stripe's place (a customer paying, Stripe cancelling)."""
    return stripe.StripeClient(
        "sk_test_parley", base_addresses={"api": localstripe.url}, max_network_retries=0
    )


def add_card(client: stripe.StripeClient, customer_id: str, number: str = "4242424242424242"):
    """Give the customer a default card, as Checkout does when the customer pays."""
    card = {"number": number, "exp_month": 12, "exp_year": 2034, "cvc": "123"}
    method = client.v1.payment_methods.create(params={"type": "card", "card": card})
    client.v1.payment_methods.attach(method.id, params={"customer": customer_id})
    client.v1.customers.update(
        customer_id, params={"invoice_settings": {"default_payment_method": method.id}}
    )


def subscribe(client: stripe.StripeClient, customer_id: str, plan_id: str = PRO_PLAN_ID) -> str:
    add_card(client, customer_id)
    subscription = client.v1.subscriptions.create(
        params={"customer": customer_id, "items": [{"plan": plan_id}]}
    )
    return subscription.id


def latest_event(client: stripe.StripeClient, event_type: str, object_id: str) -> dict:
    """The newest event localstripe generated of this type about this object."""
    events = client.v1.events.list(params={"type": event_type, "limit": 100}).data
    matching = [e.to_dict() for e in events if e.data.object.id == object_id]
    assert matching, f"localstripe sent no {event_type} for {object_id}"
    return max(matching, key=lambda event: event["created"])


def signature_for(payload: bytes, secret: str = WEBHOOK_SECRET) -> str:
    """A `Stripe-Signature` header as Stripe computes it (HMAC-SHA256 of "<t>.<body>")."""
    timestamp = int(time.time())
    signed = f"{timestamp}.".encode() + payload
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


@pytest.fixture
def deliver(db, client, django_capture_on_commit_callbacks):
    """Deliver an event to the platform host's webhook endpoint as Stripe does (committed: the
    on-commit hooks, such as forgetting the cached plan, run)."""
    public_tenant_ensure()

    def post(event: dict, *, secret: str = WEBHOOK_SECRET, signature: str | None = None):
        payload = json.dumps(event).encode()
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(
                "/billing/stripe/webhook",
                data=payload,
                content_type="application/json",
                HTTP_HOST="localhost",
                HTTP_STRIPE_SIGNATURE=signature
                if signature is not None
                else signature_for(payload, secret),
            )

    return post
