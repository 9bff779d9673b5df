"""Several conversations per visitor in chromium against the real backend: "Your conversations"
from the chat's header, an agent's answer in one conversation shown unread in the list while the
visitor writes in another, "New conversation", opening a conversation again (read there, so no
longer unread), and an identified visitor's list on a second device. Photographed at 1280 and
375 px (artifacts/widget-conversations-*.png), checked with axe and used with the keyboard."""

import hashlib
import hmac
import json
import re

import httpx
import pytest
from django_tenants.utils import schema_context
from playwright.sync_api import Page, expect

from tenants.services import api_key_create
from tests.e2e.test_widget_live import SITE_NAME, customer_page, open_widget, send
from tests.support.axe import AXE, readable, serious_violations
from tests.support.browser import recorded_page
from tests.support.factories import make_site
from widget.models import Conversation

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

WIDTHS = (1280, 375)


def room_of(page: Page, site_key: str) -> str:
    session = page.evaluate(f"localStorage.getItem('parley:{site_key}:session')")
    return json.loads(session)["conversation"]


def identified_page(platform_url: str, site, user_id: str) -> str:
    """The customer's page of a signed-in user: `Parley('identify')` queued before the widget."""
    digest = hmac.new(site.identity_secret.encode(), user_id.encode(), hashlib.sha256)
    user = json.dumps({"id": user_id, "name": "Mia", "hash": digest.hexdigest()})
    queue = "window.Parley=window.Parley||function(){(Parley.q=Parley.q||[]).push(arguments)};"
    page = customer_page(platform_url, "KEY")
    return page.replace(
        "<script src=", f"<script>{queue}Parley('identify', {user});</script>\n  <script src=", 1
    )


@pytest.fixture
def shop(parley, tenant_a, customer_site):
    pages: dict[str, str] = {}
    origin = customer_site(pages, {})
    site = make_site(tenant_a, name=SITE_NAME, origin=origin)
    pages["/"] = customer_page(parley.platform_url, site.key)
    pages["/account"] = identified_page(parley.platform_url, site.site, "user-7").replace(
        "KEY", site.key
    )
    return site, origin


@pytest.fixture
def team_api(parley, tenant_a):
    """The site-key API, as the team's server: `team_api(room, "messages", json)`."""
    _, key = api_key_create(tenant=tenant_a, name="e2e")

    def post(room: str, action: str, body: dict | None = None) -> None:
        with schema_context(tenant_a.schema_name):
            conversation_id = Conversation.objects.get(room=room).id
        response = httpx.post(
            f"{parley.platform_url}/api/v1/conversations/{conversation_id}/{action}",
            headers={"Authorization": f"Bearer {key}"},
            json=body,
        )
        assert response.status_code in (200, 201), response.text

    return post


@pytest.fixture
def answer(team_api):
    """An agent's answer through the site-key API, as Anna."""
    return lambda room, text: team_api(
        room, "messages", {"text": text, "author": {"kind": "agent", "name": "Anna Berg"}}
    )


def stored(panel, text: str):
    """The chat's message with this text, stored (not pending); not a row of the list."""
    return panel.locator("ol > li:not(.pending)", has_text=text)


def conversations_of(panel):
    return panel.get_by_role("region", name="Your conversations")


@pytest.mark.parametrize("width", WIDTHS)
def test_a_visitor_keeps_two_conversations_and_sees_the_answer_to_the_other_unread(
    shop, module_browser, answer, width
):
    site, origin = shop
    with recorded_page(module_browser, width=width, height=760) as visitor:
        page = visitor.page
        page.add_init_script(path=str(AXE))
        panel = open_widget(page, f"{origin}/")

        # Nothing said yet: the list is empty, and "New conversation" is this same one.
        panel.get_by_role("button", name="Your conversations").click()
        listing = conversations_of(panel)
        expect(listing.get_by_text("No conversations yet.")).to_be_visible()
        expect(page.get_by_label("Your message")).to_be_hidden()
        visitor.screenshot(f"widget-conversations-empty-{width}.png")
        assert serious_violations(page) == [], readable(serious_violations(page))
        listing.get_by_role("button", name="New conversation").click()
        expect(page.get_by_label("Your message")).to_be_focused()

        send(page, "Where is my order 1042?")
        expect(stored(panel, "Where is my order 1042?")).to_be_visible()
        first = room_of(page, site.key)

        # By keyboard: the header's button, then "New conversation".
        header_button = panel.get_by_role("button", name="Your conversations")
        header_button.focus()
        page.keyboard.press("Enter")
        expect(listing.get_by_role("heading", name="Your conversations")).to_be_focused()
        expect(listing.get_by_role("button", name=re.compile("Where is my order"))).to_be_visible()
        page.keyboard.press("Tab")
        page.keyboard.press("Tab")
        expect(listing.get_by_role("button", name="New conversation")).to_be_focused()
        page.keyboard.press("Enter")
        expect(panel.locator("ol > li", has_text="Where is my order")).to_be_hidden()
        send(page, "Do you ship to Norway?")
        expect(stored(panel, "Do you ship to Norway?")).to_be_visible()
        second = room_of(page, site.key)
        assert second != first

        # An agent answers the first while the visitor is in the second: unread in the list,
        # which it leads (the most recently active first).
        answer(first, "It left our warehouse this morning.")
        header_button.click()
        rows = listing.get_by_role("listitem")
        expect(rows).to_have_count(2)
        expect(rows.nth(0)).to_contain_text("Anna Berg")
        expect(rows.nth(0)).to_contain_text("It left our warehouse this morning.")
        expect(rows.nth(0)).to_contain_text("1 unread")
        expect(rows.nth(1)).to_contain_text("You: Do you ship to Norway?")
        expect(rows.nth(1).get_by_role("button")).to_have_attribute("aria-current", "true")
        visitor.screenshot(f"widget-conversations-{width}.png")
        assert serious_violations(page) == [], readable(serious_violations(page))

        # Opening it shows its messages; read there, it is no longer unread.
        rows.nth(0).get_by_role("button").click()
        expect(stored(panel, "It left our warehouse this morning.")).to_be_visible()
        expect(stored(panel, "Where is my order 1042?")).to_be_visible()
        expect(panel.locator("ol > li", has_text="Norway")).to_be_hidden()
        assert room_of(page, site.key) == first
        visitor.screenshot(f"widget-conversations-opened-{width}.png")
        send(page, "Great, thanks!")
        expect(stored(panel, "Great, thanks!")).to_be_visible()
        header_button.click()
        expect(rows.nth(0)).to_contain_text("You: Great, thanks!")
        expect(rows.nth(0)).not_to_contain_text("unread")
        expect(rows.nth(1)).to_contain_text("Norway")

        # A reload comes back, open, to the conversation it was in.
        page.reload()
        expect(stored(panel, "Great, thanks!")).to_be_visible()
        visitor.assert_clean()


def test_an_identified_visitor_sees_the_same_list_on_another_device(
    shop, module_browser, team_api, tenant_a
):
    site, origin = shop
    with recorded_page(module_browser, width=1280, height=760) as laptop:
        page = laptop.page
        panel = open_widget(page, f"{origin}/account")
        send(page, "Can I change my delivery address?")
        expect(stored(panel, "Can I change my delivery address?")).to_be_visible()
        delivery = room_of(page, site.key)
        panel.get_by_role("button", name="Your conversations").click()
        conversations_of(panel).get_by_role("button", name="New conversation").click()
        send(page, "And my invoice address?")
        expect(stored(panel, "And my invoice address?")).to_be_visible()
        laptop.assert_clean()
    team_api(delivery, "close")  # answered by phone, say: the team closed it

    with recorded_page(module_browser, width=375, height=760) as phone:
        page = phone.page
        page.add_init_script(path=str(AXE))
        panel = open_widget(page, f"{origin}/account")
        # The phone opens the newest conversation, and lists both.
        expect(stored(panel, "And my invoice address?")).to_be_visible()
        panel.get_by_role("button", name="Your conversations").click()
        rows = conversations_of(panel).get_by_role("listitem")
        expect(rows).to_have_count(2)
        expect(rows.nth(0)).to_contain_text("You: And my invoice address?")
        expect(rows.nth(1)).to_contain_text("You: Can I change my delivery address?")
        expect(rows.nth(1)).to_contain_text("Closed")
        phone.screenshot("widget-conversations-other-device-375.png")
        assert serious_violations(page) == [], readable(serious_violations(page))

        # A closed conversation is read as ever, and writing in it reopens it.
        rows.nth(1).get_by_role("button").click()
        expect(stored(panel, "Can I change my delivery address?")).to_be_visible()
        expect(panel.get_by_role("group", name="How was this conversation?")).to_be_visible()
        send(page, "Actually, one more thing.")
        expect(stored(panel, "Actually, one more thing.")).to_be_visible()
        with schema_context(tenant_a.schema_name):
            assert Conversation.objects.get(room=delivery).status == "open"
        panel.get_by_role("button", name="Your conversations").click()
        expect(rows.nth(0)).to_contain_text("You: Actually, one more thing.")
        expect(rows.nth(0)).not_to_contain_text("Closed")
        phone.assert_clean()


def test_a_list_that_cannot_be_loaded_says_so_and_the_same_button_goes_back(shop, module_browser):
    site, origin = shop
    with recorded_page(module_browser, width=1280, height=760) as visitor:
        page = visitor.page
        panel = open_widget(page, f"{origin}/")
        send(page, "Is the red tent waterproof?")
        expect(stored(panel, "Is the red tent waterproof?")).to_be_visible()
        page.route("**/api/widget/v1/conversations?*", lambda route: route.abort())
        toggle = panel.get_by_role("button", name="Your conversations")
        toggle.click()
        listing = conversations_of(panel)
        expect(listing.get_by_text("That did not work. Please try again.")).to_be_visible()
        expect(toggle).to_have_attribute("aria-expanded", "true")
        toggle.click()
        expect(toggle).to_have_attribute("aria-expanded", "false")
        expect(stored(panel, "Is the red tent waterproof?")).to_be_visible()
        expect(page.get_by_label("Your message")).to_be_focused()
        page.unroute("**/api/widget/v1/conversations?*")
        toggle.click()
        expect(listing.get_by_role("listitem")).to_have_count(1)
        assert room_of(page, site.key)
        # The browser logs the aborted request itself; the widget adds no error of its own.
        assert [e for e in visitor.errors() if "ERR_FAILED" not in e] == []
        assert visitor.csp_violations() == []
