"""The admin pages in chromium (daphne on the test database), at desktop width and at 375 px:
confirmations after saving, read out to screen readers; billing; tables at phone width.
Screenshots go to artifacts/."""

import re

import pytest
from playwright.sync_api import expect

from tests.support.dashboard_server import dashboard_server, log_in
from tests.tenants.test_webhooks import Receiver

pytestmark = [pytest.mark.e2e, pytest.mark.django_db]

WIDTHS = {"desktop": 1280, "375": 375}


@pytest.fixture(scope="module")
def server(django_db_setup, django_db_blocker):
    with dashboard_server(django_db_blocker, slug="admin-e2e", name="Admin Pages") as running:
        yield running


def _fits(page) -> None:
    if page.viewport_size["width"] == 375:
        assert page.evaluate("document.documentElement.scrollWidth") <= 375


@pytest.mark.parametrize("width", WIDTHS)
def test_saving_the_site_confirms_it_on_screen_and_to_screen_readers(server, browser_page, width):
    page = browser_page.page
    page.set_viewport_size({"width": WIDTHS[width], "height": 800})
    log_in(page, server)
    page.goto(f"{server.tenant_url}/sites/{server.site.pk}/")
    page.fill("#id_greeting", f"Hello from the {width} test")
    page.click("#site-save")

    expect(page.locator("#flash")).to_contain_text("Site saved.")
    expect(page.locator("#announcer")).to_have_text("Site saved.")
    expect(page.locator("#id_greeting")).to_have_value(f"Hello from the {width} test")
    _fits(page)
    browser_page.screenshot(f"admin-site-saved-{width}.png", full_page=True)
    assert browser_page.errors() == []
    assert browser_page.csp_violations() == []


@pytest.mark.parametrize("width", WIDTHS)
def test_billing_shows_the_current_plan_with_usage_bars(server, browser_page, width):
    page = browser_page.page
    page.set_viewport_size({"width": WIDTHS[width], "height": 800})
    log_in(page, server)
    page.goto(f"{server.tenant_url}/billing/")

    plan = page.locator("#current-plan")
    expect(plan.locator("h2")).to_contain_text("Plan:")
    expect(plan).to_contain_text("Current plan")
    sites = page.locator('[data-usage="Sites"]')
    expect(sites.locator(".usage-numbers")).to_contain_text("1")
    _fits(page)
    browser_page.screenshot(f"admin-billing-{width}.png", full_page=True)
    assert browser_page.errors() == []
    assert browser_page.csp_violations() == []


@pytest.mark.parametrize("width", WIDTHS)
def test_an_admin_adds_a_webhook_and_sends_it_a_test_event(server, browser_page, width):
    page = browser_page.page
    page.set_viewport_size({"width": WIDTHS[width], "height": 800})
    log_in(page, server)
    with Receiver(statuses=(200,)) as receiver:
        page.goto(f"{server.tenant_url}/webhooks/")
        page.fill("#id_url", receiver.url + f"?{width}")
        page.uncheck("#id_events_2")
        page.click("#webhook-create")

        expect(page.locator("#flash")).to_contain_text("created")
        secret = page.locator("#webhook-secret")
        expect(secret).to_have_value(re.compile(r"^whsec_"))
        page.click("#copy-webhook-secret")
        expect(page.locator("#copy-webhook-secret")).to_have_text("Copied")
        browser_page.screenshot(f"admin-webhook-created-{width}.png", full_page=True)
        _fits(page)

        page.click(f'[data-webhook="{receiver.url}?{width}"] a')
        page.click("#webhook-test")
        expect(page.locator("#flash")).to_contain_text("Test event delivered: HTTP 200")
        row = page.locator("#delivery-table tbody tr").first
        expect(row).to_contain_text("webhook.test")
        expect(row).to_contain_text("Delivered")
        assert len(receiver.requests) == 1
    _fits(page)
    browser_page.screenshot(f"admin-webhook-tested-{width}.png", full_page=True)

    page.click("#webhook-disable")
    expect(page.locator("#webhook-status")).to_contain_text("Disabled")
    page.on("dialog", lambda dialog: dialog.accept())
    page.click("#webhook-delete")
    expect(page.locator("#flash")).to_contain_text("deleted")
    assert browser_page.errors() == []
    assert browser_page.csp_violations() == []
