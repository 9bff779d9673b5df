"""The platform's front page and the operator console in a real browser (Debian's chromium)
against daphne on the test database: an operator signs in with a TOTP code, finds a tenant,
suspends it, sees the suspension in the tenant's facts and in the audit log, and resumes it; at
desktop width and at 375 px, with no CSP violation and no script error. Screenshots go to
artifacts/."""

import pyotp
import pytest
from django.db import connection
from operators.models import Operator
from playwright.sync_api import expect

from config.embedded import database_url
from tenants.models import Tenant
from tenants.services import public_tenant_ensure, tenant_create
from tests.support.axe import AXE, readable, serious_violations
from tests.support.processes import Daphne, free_port, parley_environment

pytestmark = [pytest.mark.e2e, pytest.mark.django_db]

EMAIL = "ops-browser@parley.test"
PASSWORD = "a-long-enough-operator-passphrase"
SECRET = pyotp.random_base32()
# A second operator for the axe run: a code once used is refused for its 30 seconds.
AUDITOR_EMAIL = "ops-axe@parley.test"
AUDITOR_SECRET = pyotp.random_base32()
SLUG = "delta-ops"


@pytest.fixture(scope="module")
def server(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        public_tenant_ensure()
        Tenant.objects.filter(slug=SLUG).delete()
        tenant_create(name="Delta Outfitters", slug=SLUG)
        for email, secret in ((EMAIL, SECRET), (AUDITOR_EMAIL, AUDITOR_SECRET)):
            Operator.objects.filter(email=email).delete()
            operator = Operator(email=email, totp_secret=secret)
            operator.set_password(PASSWORD)
            operator.save()
        url = database_url(connection.settings_dict)
    port = free_port()
    environment = parley_environment(
        DATABASE_URL=url, PARLEY_PLATFORM_URL=f"http://localhost:{port}"
    )
    environment.pop("REDIS_URL", None)
    with Daphne(environment=environment, port=port) as daphne:
        daphne.platform_url = f"http://localhost:{port}"
        yield daphne
    with django_db_blocker.unblock():
        for tenant in Tenant.objects.filter(slug=SLUG):
            tenant.delete(force_drop=True)
        Operator.objects.filter(email__in=[EMAIL, AUDITOR_EMAIL]).delete()


def test_the_front_page_at_desktop_and_phone_width(server, browser_page):
    page = browser_page.page
    page.goto(server.platform_url + "/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Talk to the people")
    browser_page.screenshot("platform-front-page.png", full_page=True)
    page.set_viewport_size({"width": 375, "height": 740})
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    browser_page.screenshot("platform-front-page-375.png", full_page=True)
    page.get_by_label("Your work email").fill("someone@example.com")
    page.get_by_role("button", name="Email me the address").click()
    expect(page.locator("#find-dashboard-sent")).to_contain_text("someone@example.com")
    assert browser_page.errors() == []
    assert browser_page.csp_violations() == []


def test_an_operator_signs_in_with_a_code_suspends_and_resumes_a_tenant(server, browser_page):
    page = browser_page.page
    page.goto(server.platform_url + "/operator/")
    expect(page).to_have_url(server.platform_url + "/operator/login/?next=/operator/")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Code from your authenticator app").fill(pyotp.TOTP(SECRET).now())
    browser_page.screenshot("operator-login.png")
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_role("heading", name="Tenants")).to_be_visible()
    page.get_by_label("Search tenants").fill("delta")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("#tenant-table")).to_contain_text("Delta Outfitters")
    browser_page.screenshot("operator-tenants.png", full_page=True)

    page.get_by_role("link", name="Delta Outfitters").click()
    page.get_by_label("Reason (shown to the tenant)").fill("unpaid contract")
    page.get_by_role("button", name="Suspend").click()
    expect(page.locator("#tenant-status")).to_contain_text("suspended since")
    expect(page.locator("#tenant-status")).to_contain_text("unpaid contract")
    browser_page.screenshot("operator-tenant-suspended.png", full_page=True)
    page.set_viewport_size({"width": 375, "height": 740})
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    browser_page.screenshot("operator-tenant-375.png", full_page=True)
    page.set_viewport_size({"width": 1024, "height": 720})
    page.get_by_role("button", name="Resume").click()
    expect(page.locator("#tenant-status")).to_have_text("active")

    page.get_by_role("link", name="Audit log").click()
    table = page.locator(".audit-table")
    expect(table).to_contain_text("tenant.resumed")
    expect(table).to_contain_text("tenant.suspended")
    expect(table).to_contain_text(EMAIL)
    browser_page.screenshot("operator-audit.png", full_page=True)
    assert browser_page.errors() == []
    assert browser_page.csp_violations() == []


def test_no_serious_accessibility_violation_on_the_console(server, browser_page):
    """axe-core over every page of the console (tests/support/axe.py), at 1280 and 375 px."""
    page = browser_page.page
    page.add_init_script(path=str(AXE))
    pages = ["/operator/login/", "/operator/", f"/operator/tenants/{SLUG}/", "/operator/audit/"]
    found = {}
    for path in pages:
        if path == "/operator/":  # signed in from here on
            page.goto(server.platform_url + "/operator/login/")
            page.get_by_label("Email").fill(AUDITOR_EMAIL)
            page.get_by_label("Password").fill(PASSWORD)
            code = pyotp.TOTP(AUDITOR_SECRET).now()
            page.get_by_label("Code from your authenticator app").fill(code)
            page.get_by_role("button", name="Sign in").click()
            expect(page.get_by_role("heading", name="Tenants")).to_be_visible()
        for width in (1280, 375):
            page.set_viewport_size({"width": width, "height": 800})
            assert page.goto(server.platform_url + path).status == 200
            if violations := serious_violations(page):
                found[f"{path} at {width} px"] = readable(violations)
    assert not found, "\n".join(f"{where}:\n{report}" for where, report in found.items())
    assert browser_page.errors() == []
    assert browser_page.csp_violations() == []
