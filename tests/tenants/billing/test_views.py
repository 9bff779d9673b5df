"""The dashboard's billing page: plan, usage, invoices; upgrade through Checkout, manage through
the Billing Portal.

localstripe has no Checkout Sessions and no Billing Portal, so those requests go to a local HTTP
stand-in that records them and answers as Stripe does (`stripe_standin.py`).
"""

import re

import pytest
from django.test import Client

from accounts.models import Role
from tenants.billing.models import BillingAccount
from tenants.services import site_create
from tests.tenants.billing.conftest import dashboard_client, stripe_test_client, subscribe
from tests.tenants.billing.stripe_standin import CHECKOUT_URL, PORTAL_URL, StripeStandIn

pytestmark = pytest.mark.django_db


def usage_shown(page: str, name: str) -> str:
    """What the billing page says of one limit's usage ("1 of 5"), "" when it is not shown."""
    found = re.search(
        rf'data-usage="{re.escape(name)}">.*?<span class="usage-numbers">([^<]*)</span>',
        page,
        re.S,
    )
    return " ".join(found.group(1).split()) if found else ""


@pytest.fixture
def standin(settings):
    with StripeStandIn() as server:
        settings.STRIPE_SECRET_KEY = "sk_test_standin"
        settings.STRIPE_API_BASE = server.url
        settings.STRIPE_PRICE_PRO = "price_pro_standin"
        settings.STRIPE_PRICE_BUSINESS = "price_business_standin"
        yield server


def test_the_owner_sees_plan_and_usage_and_that_billing_is_not_configured(
    owner, tenant_a, settings
):
    settings.STRIPE_SECRET_KEY = ""
    site_create(tenant=tenant_a, name="Shop", allowed_origins=["https://shop.example"])

    page = owner.get("/billing/")

    assert page.status_code == 200
    text = page.content.decode()
    assert "Billing is not configured" in text
    assert "Plan: Free" in text
    assert usage_shown(text, "Sites") == "1 of 1"
    assert usage_shown(text, "Messages this month") == "0 of 1000"
    assert "Upgrade" not in text


@pytest.mark.parametrize("role", [Role.AGENT, Role.ADMIN])
def test_only_the_owner_may_see_billing(tenant_a, role):
    browser = dashboard_client(tenant_a, role)
    assert browser.get("/billing/").status_code == 403
    assert browser.post("/billing/manage").status_code == 403


def test_a_visitor_who_is_not_signed_in_is_sent_to_log_in(tenant_a):
    response = Client(HTTP_HOST="alpha.localhost").get("/billing/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_upgrading_opens_a_checkout_session_in_subscription_mode(owner, tenant_a, standin):
    page = owner.get("/billing/").content.decode()
    assert "Upgrade to Pro" in page
    assert "Upgrade to Business" in page

    response = owner.post("/billing/upgrade", {"plan": "pro"})

    assert (response.status_code, response["Location"]) == (302, CHECKOUT_URL)
    assert standin.paths() == ["/v1/customers", "/v1/checkout/sessions"]
    assert standin.params_of("/v1/customers")["metadata[tenant_id]"] == str(tenant_a.pk)
    checkout = standin.params_of("/v1/checkout/sessions")
    assert checkout["mode"] == "subscription"
    assert checkout["customer"] == "cus_standin"
    assert checkout["line_items[0][price]"] == "price_pro_standin"
    assert checkout["line_items[0][quantity]"] == "1"
    assert checkout["client_reference_id"] == str(tenant_a.pk)
    assert checkout["success_url"].startswith("http://alpha.localhost/billing/")
    assert BillingAccount.objects.get(tenant=tenant_a).stripe_customer_id == "cus_standin"
    back = owner.get("/billing/", {"checkout": "done"}).content.decode()
    assert "Your new plan applies as soon as Stripe confirms the payment" in back


def test_manage_opens_the_billing_portal_for_the_existing_customer(owner, tenant_a, standin):
    BillingAccount.objects.create(tenant=tenant_a, stripe_customer_id="cus_existing")

    response = owner.post("/billing/manage")

    assert (response.status_code, response["Location"]) == (302, PORTAL_URL)
    assert standin.paths() == ["/v1/billing_portal/sessions"]
    portal = standin.params_of("/v1/billing_portal/sessions")
    assert portal == {"customer": "cus_existing", "return_url": "http://alpha.localhost/billing/"}


def test_an_unknown_plan_is_refused_without_calling_stripe(owner, standin):
    response = owner.post("/billing/upgrade", {"plan": "platinum"}, follow=True)
    assert "no paid plan named" in response.content.decode()
    assert standin.requests == []


def test_without_stripe_checkout_and_portal_answer_a_clear_error(owner, settings):
    settings.STRIPE_SECRET_KEY = ""
    for path, data in (("/billing/upgrade", {"plan": "pro"}), ("/billing/manage", {})):
        response = owner.post(path, data, follow=True)
        assert response.redirect_chain == [("/billing/", 302)]
        assert "Billing is not configured on this Parley installation." in (
            response.content.decode()
        )


def test_billing_forms_need_the_csrf_token(owner, standin):
    strict = Client(HTTP_HOST="alpha.localhost", enforce_csrf_checks=True)
    strict.cookies = owner.cookies
    assert strict.post("/billing/upgrade", {"plan": "pro"}).status_code == 403
    assert standin.requests == []


def test_a_subscriber_sees_the_plan_and_invoices_from_stripe(
    owner, tenant_a, stripe_settings, localstripe
):
    stripe = stripe_test_client(localstripe)
    customer = stripe.v1.customers.create(params={"name": "Alpha"})
    subscribe(stripe, customer.id)
    BillingAccount.objects.create(
        tenant=tenant_a, stripe_customer_id=customer.id, plan="pro", status="active"
    )

    text = owner.get("/billing/").content.decode()

    assert "Plan: Pro" in text
    assert usage_shown(text, "Sites") == "0 of 5"
    assert "29.00 USD" in text
    assert "Upgrade to" not in text  # plan changes go through the portal
    assert "Manage billing" in text
