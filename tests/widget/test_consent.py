"""A site that asks the visitor's consent: `GET /api/widget/v1/site` creates nothing, and
`POST /api/widget/v1/session` refuses a session without `consent: true` before making any row."""

import pytest
from django_tenants.utils import schema_context

from tenants.selectors import site_current_key
from tenants.services import site_create, site_update
from tenants.site_directory import site_cache_clear
from tests.support.api_clients import PlatformClient, error_code
from widget.models import Conversation, Visitor

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("platform")]

ORIGIN = "https://shop.example.com"
TEXT = "We keep your chat in your browser and on our servers for 30 days."


@pytest.fixture
def site(tenant_a):
    return site_create(
        tenant=tenant_a,
        name="Shop",
        allowed_origins=[ORIGIN],
        consent_required=True,
        consent_text=f"  {TEXT}  ",
    )


@pytest.fixture
def site_key(site):
    return site_current_key(site).key


@pytest.fixture
def browser():
    return PlatformClient(HTTP_ORIGIN=ORIGIN)


def rows(tenant) -> tuple[int, int]:
    with schema_context(tenant.schema_name):
        return Visitor.objects.count(), Conversation.objects.count()


def test_the_site_endpoint_describes_the_consent_step_and_creates_nothing(
    browser, site_key, tenant_a
):
    response = browser.get(f"/api/widget/v1/site?site_key={site_key}")
    assert response.status_code == 200, response.content
    assert response.json() == {
        "name": "Shop",
        "color": "#4f46e5",
        "greeting": "Hi! How can we help?",
        "position": "right",
        "locale": "en",
        "consent_required": True,
        "consent_text": TEXT,
    }
    assert response["Access-Control-Allow-Origin"] == ORIGIN
    assert "Set-Cookie" not in response
    assert rows(tenant_a) == (0, 0)


def test_the_site_endpoint_refuses_as_the_session_does(site_key):
    other = PlatformClient(HTTP_ORIGIN="https://evil.example")
    response = other.get(f"/api/widget/v1/site?site_key={site_key}")
    assert (response.status_code, error_code(response)) == (403, "origin_not_allowed")
    assert "Access-Control-Allow-Origin" not in response
    unknown = PlatformClient(HTTP_ORIGIN=ORIGIN).get("/api/widget/v1/site?site_key=pk_nope")
    assert (unknown.status_code, error_code(unknown)) == (404, "unknown_site_key")
    missing = PlatformClient(HTTP_ORIGIN=ORIGIN).get("/api/widget/v1/site")
    assert (missing.status_code, error_code(missing)) == (400, "bad_request")


@pytest.mark.parametrize("consent", [None, False])
def test_a_session_without_consent_is_refused_and_nothing_is_made(
    browser, site_key, tenant_a, consent
):
    body = {"site_key": site_key, "context": {"page_url": "https://shop.example.com/tents"}}
    if consent is not None:
        body["consent"] = consent
    response = browser.post_json("/api/widget/v1/session", body)
    assert (response.status_code, error_code(response)) == (403, "consent_required")
    assert response["Access-Control-Allow-Origin"] == ORIGIN  # the widget can read why
    assert rows(tenant_a) == (0, 0)


def test_with_consent_the_session_is_as_usual(browser, site_key, tenant_a):
    response = browser.post_json("/api/widget/v1/session", {"site_key": site_key, "consent": True})
    assert response.status_code == 200, response.content
    assert response.json()["conversation"].startswith("cv_")
    assert rows(tenant_a) == (1, 1)


def test_consent_must_be_a_boolean(browser, site_key):
    response = browser.post_json("/api/widget/v1/session", {"site_key": site_key, "consent": "yes"})
    assert (response.status_code, error_code(response)) == (400, "bad_request")


def test_a_site_without_the_step_needs_no_consent(browser, site, site_key, tenant_a):
    site_update(site=site, consent_required=False)
    site_cache_clear()
    described = browser.get(f"/api/widget/v1/site?site_key={site_key}").json()
    assert described["consent_required"] is False
    response = browser.post_json("/api/widget/v1/session", {"site_key": site_key})
    assert response.status_code == 200, response.content
    assert rows(tenant_a) == (1, 1)
