"""The emoji picker in chromium, in the widget (on a customer page with a strict CSP) and in the
dashboard's reply box, against a real daphne: its script and its data are requested only when
it is first opened; a search, the arrow keys and Enter put an emoji at the caret; Esc closes it
and gives the focus back; the recently used come first; the message arrives with the emoji on
the other side; in German it speaks German and searches German names. At 1280 and 375 px, with
axe and screenshots of the open picker in artifacts/.
"""

import re

import pytest
from playwright.sync_api import expect

from tenants.models import SiteKey
from tenants.services import site_update
from tests.e2e.conftest import strict_csp
from tests.support.axe import AXE, readable, serious_violations
from tests.support.browser import recorded_page
from tests.support.customer_pages import customer_pages, widget_page
from tests.support.dashboard_server import dashboard_server, log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db]

SHOP = "Acme Outdoor"
EMOJI_FILES = re.compile(r"/widget/emoji/")


@pytest.fixture(scope="module")
def shop(django_db_setup, django_db_blocker):
    pages: dict[str, str] = {}
    with (
        dashboard_server(django_db_blocker, slug="emoji-e2e", name=SHOP, origins=()) as server,
        # The shop's page allows scripts, styles and connections from Parley alone.
        customer_pages(
            pages, {"Content-Security-Policy": strict_csp(server.platform_url)}
        ) as origin,
    ):
        with django_db_blocker.unblock():
            site_update(site=server.site, allowed_origins=[origin])
            key = SiteKey.objects.filter(site=server.site, revoked_at=None).first().key
        pages["/"] = widget_page(server.platform_url, key, title=SHOP)
        pages["/de"] = pages["/"].replace("data-site-key=", 'data-locale="de" data-site-key=')
        server.origin = origin
        yield server


def emoji_requests(page) -> list[str]:
    requested: list[str] = []
    page.on(
        "request",
        lambda request: requested.append(request.url) if EMOJI_FILES.search(request.url) else None,
    )
    return requested


def fits(locator, width: int) -> None:
    box = locator.bounding_box()
    assert box is not None
    assert box["x"] >= 0, box
    assert box["x"] + box["width"] <= width, f"the picker is out of the screen: {box}"
    assert box["y"] >= 0, box


@pytest.mark.parametrize("width", [1280, 375])
def test_the_emoji_picker_in_the_widget_and_the_dashboard(shop, module_browser, width):
    height = 900 if width > 400 else 740
    with (
        recorded_page(module_browser, width=width, height=height) as visitor,
        recorded_page(module_browser, width=width, height=height, timezone_id="UTC") as agent,
    ):
        shopper = visitor.page
        shopper.add_init_script(path=str(AXE))
        requested = emoji_requests(shopper)
        shopper.goto(f"{shop.origin}/")
        shopper.get_by_role("button", name=re.compile(r"^Open chat")).click()
        panel = shopper.get_by_role("dialog", name=f"{SHOP} site")
        expect(panel).to_be_visible()
        box = shopper.get_by_label("Your message")
        box.fill("Hello, two tents please")
        expect(panel.get_by_role("button", name="Add an emoji")).to_be_visible()
        assert requested == [], "nothing of the picker before it is opened"

        # Opened: its script and this language's data, once; the search box has the focus.
        button = panel.get_by_role("button", name="Add an emoji")
        box.evaluate("(field) => field.setSelectionRange(6, 6)")  # the caret after "Hello,"
        button.click()
        picker = shopper.get_by_role("dialog", name="Emoji")
        expect(picker).to_be_visible()
        expect(picker.get_by_role("button", name="grinning face", exact=True)).to_be_visible()
        assert len(requested) == 2, requested
        assert requested[0].endswith(".js")
        assert "/widget/emoji/en." in requested[1]
        search = picker.get_by_role("searchbox", name="Search emoji")
        expect(search).to_be_focused()
        expect(picker.get_by_role("tab")).to_have_count(9)
        expect(picker.get_by_role("tab", name="Smileys & emotion")).to_have_attribute(
            "aria-selected", "true"
        )
        visitor.screenshot(f"emoji-widget-{width}.png")
        fits(picker, width)
        found = serious_violations(shopper)
        assert not found, readable(found)

        # A search, the arrow keys to the second match, Enter: at the caret.
        search.fill("tent")
        expect(picker.get_by_role("button", name="tent", exact=True)).to_be_visible()
        visitor.screenshot(f"emoji-widget-search-{width}.png")
        search.press("ArrowDown")
        focused = shopper.evaluate(
            "() => document.activeElement.shadowRoot.activeElement.textContent"
        )
        assert focused == picker.locator(".pe-emoji").first.text_content()
        shopper.keyboard.press("ArrowRight")
        second = picker.locator(".pe-emoji").nth(1)
        expect(second).to_be_focused()
        chosen = second.text_content()
        shopper.keyboard.press("Enter")
        expect(picker).to_be_hidden()
        expect(box).to_have_value(f"Hello,{chosen} two tents please")
        expect(box).to_be_focused()

        # Opened again: the recently used first; Esc closes it and gives the focus back.
        button.click()
        expect(picker).to_be_visible()
        recent = picker.get_by_role("tab", name="Recently used")
        expect(recent).to_have_attribute("aria-selected", "true")
        expect(picker.locator(".pe-emoji").first).to_have_text(chosen)
        # Tabs by the arrow keys, a category's emoji by a click.
        recent.focus()
        shopper.keyboard.press("ArrowRight")
        expect(picker.get_by_role("tab", name="Smileys & emotion")).to_be_focused()
        shopper.keyboard.press("Escape")
        expect(picker).to_be_hidden()
        expect(button).to_be_focused()
        expect(panel).to_be_visible()  # Esc closed the picker, not the chat
        assert len(requested) == 2, "the script and the data are fetched once"

        box.evaluate("(field) => field.setSelectionRange(field.value.length, field.value.length)")
        button.click()
        search.fill("thumbs")
        thumbs = picker.get_by_role("button", name="thumbs up", exact=True)
        thumb = thumbs.text_content()
        thumbs.click()
        expect(box).to_have_value(f"Hello,{chosen} two tents please{thumb}")
        box.press("Enter")
        expect(panel.locator("li.mine:not(.pending)")).to_have_count(1)
        room = shopper.evaluate(
            """() => {
              const key = Object.keys(localStorage).find((k) => k.endsWith(':session'));
              return JSON.parse(localStorage.getItem(key)).conversation;
            }"""
        )

        # The agent sees it, and answers with the dashboard's picker.
        page = agent.page
        page.add_init_script(path=str(AXE))
        agent_requested = emoji_requests(page)
        log_in(page, shop)
        page.goto(f"{shop.tenant_url}/conversations/room/{room}/")
        expect(page.locator("#live-status")).to_have_attribute("data-state", "live")
        expect(page.locator("#messages .author-visitor .text")).to_have_text(
            f"Hello,{chosen} two tents please{thumb}"
        )
        assert agent_requested == []
        reply = page.get_by_label("Reply")
        reply.fill("Sure ")
        page.get_by_role("button", name="Add an emoji").click()
        picker = page.get_by_role("dialog", name="Emoji")
        expect(picker).to_be_visible()
        expect(picker.get_by_role("button", name="grinning face", exact=True)).to_be_visible()
        assert len(agent_requested) == 2
        assert all(url.startswith(shop.tenant_url) for url in agent_requested)
        agent.screenshot(f"emoji-dashboard-{width}.png")
        fits(picker, width)
        found = serious_violations(page)
        assert not found, readable(found)
        page.get_by_role("searchbox", name="Search emoji").fill("camping")
        page.get_by_role("searchbox", name="Search emoji").press("Enter")
        expect(picker).to_be_hidden()
        expect(reply).to_have_value("Sure 🏕️")
        page.locator("#reply-submit").click()
        expect(panel.locator("li:not(.mine) .bubble").last).to_contain_text("Sure 🏕️")

        visitor.assert_clean()
        agent.assert_clean()


def test_the_picker_speaks_the_visitors_language(shop, module_browser):
    with recorded_page(module_browser, width=1280, height=900) as visitor:
        shopper = visitor.page
        requested = emoji_requests(shopper)
        shopper.goto(f"{shop.origin}/de")
        shopper.get_by_role("button", name=re.compile(r"^Chat öffnen")).click()
        shopper.get_by_role("button", name="Emoji einfügen").click()
        picker = shopper.get_by_role("dialog", name="Emoji")
        expect(picker.get_by_role("tab", name="Smileys & Emotionen")).to_be_visible()
        assert "/widget/emoji/de." in requested[-1]
        search = picker.get_by_role("searchbox", name="Emoji suchen")
        search.fill("zelt")
        expect(picker.locator(".pe-heading")).to_have_text("Suchergebnisse")
        expect(picker.get_by_role("button", name="Zelt", exact=True)).to_be_visible()
        search.fill("qqq")
        expect(picker.get_by_role("status")).to_have_text("Kein Emoji gefunden")
        visitor.assert_clean()
