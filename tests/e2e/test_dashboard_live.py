"""A new customer's first conversation, end to end, against the real backend: signup on the
platform host, a site for the customer page's origin made in the dashboard, the snippet the
dashboard shows pasted into that page, a visitor writing through the widget, the message live in
the inbox, the agent's reply from the dashboard live in the widget. Real daphne, the test
database, Debian's chromium; nothing of Parley stubbed.
"""

import re

import pytest
from playwright.sync_api import expect

from tenants.models import Tenant
from tenants.services import public_tenant_ensure
from tests.support.browser import recorded_page

# transaction=True: what a test commits is seen by daphne, and what daphne commits by the test.
pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SLUG = "trailhead-e2e"


@pytest.fixture
def new_tenant_dropped(transactional_db):
    """The tenant the test signs up for, dropped with its schema afterwards."""
    public_tenant_ensure()
    yield SLUG
    for tenant in Tenant.objects.filter(slug=SLUG):
        tenant.delete(force_drop=True)


def test_signup_to_a_first_conversation(parley, customer_site, new_tenant_dropped, module_browser):
    pages: dict[str, str] = {}
    customer_origin = customer_site(pages, {})
    dashboard = f"http://{SLUG}.localhost:{parley.port}"

    with (
        recorded_page(module_browser) as owner,
        recorded_page(module_browser) as visitor,
    ):
        page = owner.page
        page.goto(f"{parley.platform_url}/signup/")
        page.fill("#id_name", "Trailhead Gear")
        page.fill("#id_slug", SLUG)
        page.fill("#id_email", "founder@trailhead.test")
        page.fill("#id_password", "correct horse battery staple")
        page.click("#signup-submit")
        page.wait_for_url(f"{dashboard}/sites/")

        page.click("#new-site")
        page.fill("#id_name", "Trailhead shop")
        page.fill("#id_allowed_origins", customer_origin)
        page.click("#site-save")
        snippet = page.locator("#embed-snippet")
        expect(snippet).to_have_value(
            re.compile(
                rf'^<script src="{parley.platform_url}/widget\.js" '
                r'data-site-key="pk_[A-Za-z0-9_-]{24,}" async></script>$'
            )
        )
        owner.screenshot("dashboard-live-site.png", full_page=True)
        pages["/"] = (
            "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
            "<title>Trailhead</title></head><body><h1>Trailhead Gear</h1>"
            f"{snippet.input_value()}</body></html>"
        )

        page.goto(f"{dashboard}/")
        expect(page.locator("#live-status")).to_have_attribute("data-state", "live")

        shopper = visitor.page
        shopper.goto(f"{customer_origin}/")
        shopper.get_by_role("button", name=re.compile(r"^Open chat")).click()
        widget = shopper.get_by_role("dialog", name="Trailhead shop")
        textarea = shopper.get_by_label("Your message")
        textarea.fill("Do you rent out bear canisters?")
        textarea.press("Enter")
        expect(widget.locator("li:not(.pending)", has_text="bear canisters")).to_be_visible()

        # A new conversation appears in the open inbox without a reload.
        row = page.locator(".conversation-row", has_text="Do you rent out bear canisters?")
        expect(row).to_be_visible()
        expect(row.locator(".unread-count")).to_have_text("1")
        owner.screenshot("dashboard-live-inbox.png", full_page=True)
        # An owner's nine sections at 1024 px: the top bar wraps, the page does not scroll sideways.
        assert page.evaluate("document.documentElement.scrollWidth") <= 1024

        row.locator("a").click()
        page.wait_for_url(re.compile(r".*/conversations/\d+/$"))
        expect(page.locator("#live-status")).to_have_attribute("data-state", "live")
        # The agent has the conversation open: the visitor sees it read, the agent sees typing.
        expect(widget.locator("li.mine .meta")).to_contain_text("Seen")
        textarea.fill("And tents?")
        expect(page.locator("#typing")).to_be_visible()
        textarea.fill("")
        page.fill("#id_text", "Yes, 5 dollars a day.")
        expect(widget.locator(".typing")).to_contain_text("typing")
        page.keyboard.press("Enter")
        reply = page.locator("#messages li.author-agent").last
        expect(reply).to_have_attribute("data-id", re.compile(r"^\d+$"))

        expect(widget.locator("li.agent", has_text="Yes, 5 dollars a day.")).to_be_visible()
        expect(widget.locator("li")).to_have_count(2)
        for recorded in (owner, visitor):
            assert recorded.errors() == []
            assert recorded.csp_violations() == []
