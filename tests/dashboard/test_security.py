"""Headers and CSRF: the dashboard's pages carry a strict CSP and may not be framed; every form
post needs its CSRF token; templates hold no inline script or style the CSP would block."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.http import HttpResponse
from django.test import Client, RequestFactory

from dashboard.middleware import ContentSecurityPolicyMiddleware, dashboard_csp
from tenants.models import Tenant
from tenants.services import public_tenant_ensure
from tests.dashboard.conftest import PASSWORD, host_of

pytestmark = pytest.mark.django_db

TEMPLATES = Path(__file__).resolve().parents[2] / "platform" / "dashboard" / "templates"


def csp_of(response) -> dict[str, str]:
    policy = response["Content-Security-Policy"]
    return dict(part.strip().split(" ", 1) for part in policy.split(";"))


@pytest.mark.parametrize(
    ("path", "signed_in"),
    [("/login/", False), ("/password-reset/", False), ("/", True), ("/sites/", True)],
)
def test_dashboard_pages_carry_a_csp_and_refuse_framing(
    tenant_a, owner, tenant_client, path, signed_in
):
    response = tenant_client(tenant_a, owner if signed_in else None).get(path)
    assert response.status_code == 200
    assert response["X-Frame-Options"] == "DENY"
    csp = csp_of(response)
    assert csp["default-src"] == "'self'"
    assert csp["script-src"] == "'self'"
    assert csp["style-src"] == "'self'"
    assert csp["connect-src"] == "'self' ws://alpha.localhost"
    # Attachments' thumbnails come from the files' host (PARLEY_FILES_URL).
    assert csp["img-src"] == f"'self' data: {settings.FILES_URL}"
    assert csp["frame-ancestors"] == "'none'"
    assert csp["base-uri"] == "'self'"
    assert csp["form-action"] == "'self'"


def test_the_socket_is_allowed_over_tls_when_the_page_is_https(tenant_a, owner, tenant_client):
    response = tenant_client(tenant_a, owner).get("/", secure=True)
    assert csp_of(response)["connect-src"] == "'self' wss://alpha.localhost"


def test_the_signup_page_carries_the_csp_but_other_platform_pages_are_left_alone():
    public_tenant_ensure()
    platform = Client(HTTP_HOST="localhost")
    signup = platform.get("/signup/")
    assert csp_of(signup)["frame-ancestors"] == "'none'"
    # Signing up ends with a redirect to the new tenant's host, which form-action must allow.
    assert csp_of(signup)["form-action"] == "'self' http://*.localhost:8000"
    assert signup["X-Frame-Options"] == "DENY"
    # The widget's own files and APIs on the platform host set their own headers.
    assert "Content-Security-Policy" not in platform.get("/no-such-page/")


def test_a_login_post_without_csrf_token_is_refused(tenant_a, owner):
    client = Client(HTTP_HOST=host_of(tenant_a), enforce_csrf_checks=True)
    response = client.post("/login/", {"username": owner.email, "password": PASSWORD})
    assert response.status_code == 403
    assert "This form has expired" in response.content.decode()
    assert "Content-Security-Policy" in response  # the refusal page is the dashboard's own
    assert client.get("/").status_code == 302  # not signed in


def test_dashboard_actions_without_csrf_token_are_refused(tenant_a, owner, tenant_client):
    client = tenant_client(tenant_a, owner, enforce_csrf_checks=True)
    for path in ("/sites/new/", "/api-keys/", "/team/invite/", "/logout/"):
        assert client.post(path, {"name": "x", "email": "a@b.test"}).status_code == 403, path
    assert client.get("/").status_code == 200  # the logout was refused too


def test_a_signup_post_without_csrf_token_is_refused():
    public_tenant_ensure()
    client = Client(HTTP_HOST="localhost", enforce_csrf_checks=True)
    response = client.post(
        "/signup/",
        {"name": "Csrf", "slug": "csrf-co", "email": "a@b.test", "password": "long-passphrase-1"},
    )
    assert response.status_code == 403
    assert not Tenant.objects.filter(slug="csrf-co").exists()


def test_a_form_with_its_token_passes_the_csrf_check(tenant_a, owner):
    client = Client(HTTP_HOST=host_of(tenant_a), enforce_csrf_checks=True)
    page = client.get("/login/").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    response = client.post(
        "/login/",
        {"username": owner.email, "password": PASSWORD, "csrfmiddlewaretoken": token},
    )
    assert response.status_code == 302


def test_templates_have_no_inline_script_or_style():
    for template in TEMPLATES.rglob("*.html"):
        source = template.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", source), template
        assert "<style" not in source, template
        assert not re.search(r"\sstyle=", source), template
        assert not re.search(r"\son[a-z]+=", source), template  # onclick= and friends


def test_a_page_whose_forms_lead_elsewhere_names_those_origins(tenant_a):
    """Browsers check `form-action` against the redirect that answers a post too: a page posting
    to a view that redirects to, say, a payment provider must name its origin."""

    @dashboard_csp(form_targets=("https://checkout.stripe.com",))
    def billing_page(request):
        return HttpResponse("<form method=post action=/billing/upgrade/>")

    request = RequestFactory().get("/billing/", HTTP_HOST="alpha.localhost")
    request.tenant = tenant_a
    response = ContentSecurityPolicyMiddleware(billing_page)(request)
    assert csp_of(response)["form-action"] == "'self' https://checkout.stripe.com"
    assert csp_of(response)["script-src"] == "'self'"
