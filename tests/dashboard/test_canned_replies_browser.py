"""Canned replies in chromium: an admin writes `/hello` on the Canned replies page; an agent in
a conversation with a real widget visitor types `/he`, picks it with the keyboard, and the
composer holds it filled in with the visitor's name and the agent's; sent, the visitor's widget
shows it. The picker is an ARIA combobox (expanded, active option), closes with Esc, takes a
click, and works in a private note too. Desktop width and 375 px; screenshots in artifacts/."""

import re

import pytest
from playwright.sync_api import expect

from accounts.models import Role, User
from tenants.models import SiteKey
from tests.support.axe import AXE, RUN_AXE
from tests.support.browser import recorded_page
from tests.support.customer_pages import customer_pages
from tests.support.dashboard_server import OWNER_PASSWORD, dashboard_server, log_in
from widget.services.canned_replies import canned_reply_create

pytestmark = [pytest.mark.e2e, pytest.mark.django_db]

SHOP = "Acme Outdoor"
AGENT_EMAIL = "ada@canned-e2e.test"
HELLO_BODY = "Hi {{visitor.name|there}}, I'm {{agent.name}}. How can I help?"
HELLO_FILLED = "Hi Greta Lindqvist, I'm Ada Lovelace. How can I help?"


def _seed(tenant, site, owner) -> dict:
    User.objects.create_user(
        email=AGENT_EMAIL, password=OWNER_PASSWORD, role=Role.AGENT, display_name="Ada Lovelace"
    )
    canned_reply_create(
        tenant=tenant,
        shortcut="help",
        title="Help centre",
        body="Our guides for {{visitor.first_name|you}}: https://help.example.com",
    )
    return {}


def _customer_page(platform_url: str, site_key: str) -> str:
    """A shop's page that names its signed-in customer to the widget (no hash: the site does not
    require a verified identity, so the name is the visitor's own word)."""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{SHOP}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><h1>{SHOP}</h1>
  <script>
    window.Parley = window.Parley || function () {{ (Parley.q = Parley.q || []).push(arguments); }};
    Parley("identify", {{ id: "u-77", name: "Greta Lindqvist", email: "greta@example.com" }});
  </script>
  <script src="{platform_url}/widget.js" data-site-key="{site_key}" async></script>
</body></html>"""


@pytest.fixture(scope="module")
def shop(django_db_setup, django_db_blocker):
    pages: dict[str, str] = {}
    with (
        customer_pages(pages) as origin,
        dashboard_server(
            django_db_blocker, slug="canned-e2e", name=SHOP, origins=(origin,), seed=_seed
        ) as server,
    ):
        with django_db_blocker.unblock():
            key = SiteKey.objects.filter(site=server.site, revoked_at=None).first().key
        pages["/"] = _customer_page(server.platform_url, key)
        server.origin = origin
        yield server


def _no_sideways_scroll(page, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def _visitor_says(page, shop, text: str):
    page.goto(f"{shop.origin}/")
    page.get_by_role("button", name=re.compile(r"^Open chat")).click()
    panel = page.get_by_role("dialog", name=f"{SHOP} site")
    box = page.get_by_label("Your message")
    box.fill(text)
    box.press("Enter")
    expect(panel.locator("li.mine:not(.pending)", has_text=text)).to_be_visible()
    room = page.evaluate(
        """() => {
          const key = Object.keys(localStorage).find((k) => k.endsWith(':session'));
          return JSON.parse(localStorage.getItem(key)).conversation;
        }"""
    )
    return panel, room


def test_an_admin_writes_a_reply_and_an_agent_sends_it_filled_in(shop, module_browser):
    with recorded_page(module_browser, width=1280, height=900, timezone_id="UTC") as admin:
        page = admin.page
        log_in(page, shop)
        page.click("#nav-settings-button")  # the admin pages are in the Settings menu
        page.click("#nav-canned-replies")
        expect(page.get_by_role("heading", name="Canned replies", level=1)).to_be_visible()
        page.get_by_label("Shortcut").fill("hello")
        page.get_by_label("Title").fill("Greeting")
        # A misspelt variable is refused, named, with the text kept to correct.
        page.get_by_label("Text").fill("Hi {{visitor.nmae}}")
        page.click("#canned-create")
        expect(page.locator(".has-error .error")).to_contain_text(
            "{{visitor.nmae}} is not a variable"
        )
        expect(page.get_by_label("Text")).to_have_value("Hi {{visitor.nmae}}")
        admin.screenshot("canned-replies-refused-1280.png", full_page=True)
        page.get_by_label("Text").fill(HELLO_BODY)
        page.click("#canned-create")
        expect(page.locator(".flash")).to_have_text("Canned reply /hello created.")
        item = page.locator('.canned-item[data-shortcut="hello"]')
        expect(item.locator(".canned-body")).to_have_text(HELLO_BODY)
        admin.screenshot("canned-replies-1280.png", full_page=True)
        _no_sideways_scroll(page, 1280)
        page.set_viewport_size({"width": 375, "height": 800})
        page.reload()
        expect(item).to_be_visible()
        _no_sideways_scroll(page, 375)
        admin.screenshot("canned-replies-375.png", full_page=True)
        # The one error the browser logged: the refused form's answer, 400 as it should be.
        assert [("status of 400" in error) for error in admin.errors()] == [True]
        assert admin.csp_violations() == []

    with (
        recorded_page(module_browser, width=1280, height=800) as visitor,
        recorded_page(module_browser, width=1280, height=900, timezone_id="UTC") as agent,
    ):
        panel, room = _visitor_says(visitor.page, shop, "Do you ship tents to Sweden?")
        page = agent.page
        page.add_init_script(path=str(AXE))
        log_in(page, shop, email=AGENT_EMAIL, password=OWNER_PASSWORD)
        page.goto(f"{shop.tenant_url}/conversations/room/{room}/")
        expect(page.locator("#live-status")).to_have_attribute("data-state", "live")

        composer = page.get_by_role("combobox", name="Reply")
        expect(composer).to_have_attribute("aria-expanded", "false")
        composer.press_sequentially("/he")
        listbox = page.get_by_role("listbox", name="Canned replies")
        expect(listbox).to_be_visible()
        expect(composer).to_have_attribute("aria-expanded", "true")
        options = listbox.get_by_role("option")
        expect(options).to_have_count(2)
        expect(options.nth(0)).to_contain_text("/hello")
        expect(options.nth(0)).to_contain_text("Greeting")
        expect(options.nth(0).locator(".canned-preview")).to_have_text(HELLO_FILLED)
        expect(options.nth(1)).to_contain_text("/help")
        expect(options.nth(0)).to_have_attribute("aria-selected", "true")
        expect(composer).to_have_attribute(
            "aria-activedescendant", options.nth(0).get_attribute("id")
        )
        agent.screenshot("canned-picker-1280.png", full_page=True)
        assert page.evaluate(RUN_AXE) == []  # the open combobox and its listbox

        # Filtered as the agent types; the arrows move the active option and wrap around.
        composer.press("l")
        expect(options).to_have_count(2)  # hello and help, both start with "hel"
        composer.press("ArrowDown")
        expect(options.nth(1)).to_have_attribute("aria-selected", "true")
        expect(composer).to_have_attribute(
            "aria-activedescendant", options.nth(1).get_attribute("id")
        )
        composer.press("ArrowDown")
        expect(options.nth(0)).to_have_attribute("aria-selected", "true")
        composer.press("Enter")  # inserts the active reply; does not send
        expect(listbox).to_be_hidden()
        expect(composer).to_have_attribute("aria-expanded", "false")
        expect(composer).to_have_value(HELLO_FILLED)
        caret = composer.evaluate(
            "(box) => [box.selectionStart, box.selectionEnd, box.value.length]"
        )
        assert caret == [len(HELLO_FILLED)] * 3
        expect(page.locator("#messages li.message.author-agent")).to_have_count(0)

        composer.press("Enter")  # now it sends
        expect(composer).to_have_value("")
        expect(page.locator("#messages li.message.author-agent .text")).to_have_text(HELLO_FILLED)
        expect(panel.locator("li.agent", has_text=HELLO_FILLED)).to_be_visible()
        visitor.screenshot("canned-reply-received-widget.png")
        visitor.assert_clean()
        agent.assert_clean()


def test_the_picker_at_375_px_in_a_note_with_esc_and_the_mouse(shop, module_browser):
    with (
        recorded_page(module_browser, width=1280, height=800) as visitor,
        recorded_page(module_browser, width=375, height=740, timezone_id="UTC") as agent,
    ):
        _, room = _visitor_says(visitor.page, shop, "Where are your guides?")
        page = agent.page
        log_in(page, shop, email=AGENT_EMAIL, password=OWNER_PASSWORD)
        page.goto(f"{shop.tenant_url}/conversations/room/{room}/")
        expect(page.locator("#live-status")).to_have_attribute("data-state", "live")
        page.check("#id_private")
        composer = page.get_by_role("combobox", name="Reply")
        listbox = page.get_by_role("listbox", name="Canned replies")

        # Only after a space or at the start: a path such as "and/or" opens nothing.
        composer.press_sequentially("See and/h")
        expect(listbox).to_be_hidden()
        composer.fill("")
        composer.press_sequentially("For the team: /")
        expect(listbox.get_by_role("option")).to_have_count(2)  # every reply for a bare "/"
        composer.press("Escape")
        expect(listbox).to_be_hidden()
        composer.press_sequentially("h")  # Esc closed it for this "/": typing on keeps it shut
        expect(listbox).to_be_hidden()
        composer.press("Backspace")
        composer.press("Backspace")
        composer.press_sequentially("/gui")  # the bodies are not searched ("Our guides…")
        expect(listbox).to_be_hidden()
        composer.press("Backspace")
        composer.press("Backspace")
        composer.press("Backspace")
        composer.press_sequentially("centre")  # the titles are ("Help centre")
        options = listbox.get_by_role("option")
        expect(options).to_have_count(1)
        expect(options.first).to_contain_text("Help centre")
        box, screen = listbox.bounding_box(), page.viewport_size
        assert box["x"] >= 0
        assert box["x"] + box["width"] <= screen["width"]
        _no_sideways_scroll(page, 375)
        agent.screenshot("canned-picker-375.png", full_page=True)

        options.first.click()
        note = "For the team: Our guides for Greta: https://help.example.com"
        expect(composer).to_have_value(note)
        expect(composer).to_be_focused()
        composer.press("Enter")
        sent = page.locator("#messages li.message.private").last
        expect(sent.locator(".text")).to_contain_text("For the team: Our guides for Greta")
        expect(sent.locator(".note-tag")).to_have_text("Only your team sees this")
        agent.screenshot("canned-note-375.png", full_page=True)
        visitor.assert_clean()
        agent.assert_clean()
