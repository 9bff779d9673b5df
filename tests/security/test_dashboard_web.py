"""The dashboard as a browser target: CSRF on every URL, stored XSS rendered as text, no framing.

Every tenant-host URL pattern is enumerated (tests/security/support.py), so a new page is covered
without editing this file. The widget renders visitor and agent text itself, as text nodes, with
links limited to http(s): frontend-widget/test/linkify.test.js ("markup in a message stays
text", "no other scheme is ever linked") and widget.test.js hold it to that.
"""

import re
from pathlib import Path

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django_tenants.utils import tenant_context

from accounts.models import Role, User
from tenants.models import Site
from tenants.services import public_tenant_ensure
from tests.security.support import dashboard_patterns, dashboard_url, signed_in, world_of
from widget.models import Message, Visitor

pytestmark = pytest.mark.django_db

STATIC = Path(__file__).resolve().parents[2] / "platform" / "dashboard" / "static"


@pytest.fixture
def world(platform, tenant_a):
    return world_of(tenant_a)


# --- CSRF -----------------------------------------------------------------------------------------


def test_every_dashboard_url_refuses_a_post_without_its_csrf_token(world):
    browser = signed_in(world.tenant, world.owner, enforce_csrf_checks=True)
    site = Site.objects.get(pk=world.site.pk)
    before = (site.name, site.identity_secret, list(site.keys.values_list("key", flat=True)))
    patterns = dashboard_patterns()
    for route, name in patterns:
        url = dashboard_url(route, name, world)
        response = browser.post(url, {"name": "csrf", "text": "csrf", "role": "agent"})
        assert response.status_code == 403, (url, response.status_code)
        assert "This form has expired" in response.content.decode(), url
    site.refresh_from_db()
    assert (site.name, site.identity_secret, list(site.keys.values_list("key", flat=True))) == (
        before
    )
    with tenant_context(world.tenant):
        assert not Message.objects.filter(text="csrf").exists()
        assert User.objects.get(pk=world.owner.pk).role == Role.OWNER
    assert browser.get("/").status_code == 200  # the logout post was refused too


def csrf_exempt_views(urlconf: str) -> set[str]:
    def walk(resolver, prefix=""):
        for entry in resolver.url_patterns:
            if isinstance(entry, URLResolver):
                yield from walk(entry, prefix + str(entry.pattern))
            elif isinstance(entry, URLPattern) and getattr(entry.callback, "csrf_exempt", False):
                yield prefix + str(entry.pattern)

    return set(walk(get_resolver(urlconf)))


def test_only_cookieless_endpoints_are_csrf_exempt():
    """CSRF rides on cookies. The exempt endpoints take none: the widget API (CORS without
    credentials, the site key in the body), the site-key API (bearer key), Stripe's webhook
    and the email providers' inbound webhooks (their signatures), and the emails' one-click
    unsubscribe (RFC 8058: a mail app posts it; the signed token in its URL is its authority).
    Nothing on a tenant host, where the session cookie lives, is exempt."""
    assert csrf_exempt_views("config.urls_tenant") == set()
    exempt = csrf_exempt_views("config.urls_public")
    assert "billing/stripe/webhook" in exempt
    assert "signup/" not in exempt
    for route in exempt:
        assert route.startswith(
            (
                "api/widget/v1/",
                "api/v1/",
                "billing/stripe/webhook",
                "email/inbound/",
                "email/unsubscribe/",
            )
        ), route


def test_signup_refuses_a_post_without_its_csrf_token():
    public_tenant_ensure()
    browser = Client(HTTP_HOST="localhost", enforce_csrf_checks=True)
    fields = {"name": "X", "slug": "csrf-x", "email": "a@b.test", "password": "long-pass-phrase"}
    assert browser.post("/signup/", fields).status_code == 403


# --- Stored XSS -----------------------------------------------------------------------------------

PAYLOADS = [
    "<img src=x onerror=alert(1)>",
    "<script>alert(1)</script>",
    '"><svg onload=alert(1)>',
    "javascript:alert(1)",
]


def test_stored_payloads_are_rendered_as_text_on_every_page(world):
    with tenant_context(world.tenant):
        Visitor.objects.filter(pk=world.visitor.pk).update(name=PAYLOADS[0])
        for text in PAYLOADS:
            Message.objects.create(
                conversation=world.conversation,
                author_kind="visitor",
                author_id=str(world.visitor.id),
                text=text,
            )
        User.objects.filter(pk=world.owner.pk).update(display_name=PAYLOADS[2])
    Site.objects.filter(pk=world.site.pk).update(name=PAYLOADS[1], greeting=PAYLOADS[2])

    browser = signed_in(world.tenant, world.owner)
    pages = ["/", f"/conversations/{world.conversation.pk}/", "/sites/", "/team/"]
    pages.append(f"/sites/{world.site.pk}/")
    for page in pages:
        response = browser.get(page)
        assert response.status_code == 200, page
        html = response.content.decode()
        for payload in PAYLOADS[:3]:
            assert payload not in html, (page, payload)
        assert not re.search(r"""(href|src|action)\s*=\s*["']?\s*javascript:""", html, re.I)
        assert "<script>alert" not in html
    conversation = browser.get(f"/conversations/{world.conversation.pk}/").content.decode()
    assert "&lt;img src=x onerror=alert(1)&gt;" in conversation  # shown, as text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in conversation


def test_the_dashboards_scripts_never_parse_text_as_html():
    """The inbox shows live frames (visitor text) with textContent, never as markup."""
    for script in STATIC.rglob("*.js"):
        source = script.read_text()
        for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
            assert sink not in source, (script.name, sink)


# --- Clickjacking ---------------------------------------------------------------------------------


def test_no_dashboard_page_may_be_framed(world):
    browser = signed_in(world.tenant, world.owner)
    anonymous = Client(HTTP_HOST=f"{world.tenant.slug}.localhost")
    framed_pages = 0
    for route, name in dashboard_patterns():
        url = dashboard_url(route, name, world)
        for client in (browser, anonymous):
            response = client.get(url)
            assert response.get("X-Frame-Options") == "DENY", (url, response.status_code)
            if response.status_code == 200:
                policy = response["Content-Security-Policy"]
                assert "frame-ancestors 'none'" in policy, url
                framed_pages += 1
    assert framed_pages >= 15
    public_tenant_ensure()
    signup = Client(HTTP_HOST="localhost").get("/signup/")
    assert signup["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in signup["Content-Security-Policy"]
