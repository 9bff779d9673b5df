"""Message formatting in chromium, with the real widget on a customer page of a second origin (its
own strict Content-Security-Policy), a real daphne and the agent on the conversation page.

The widget formats with its bundle, the dashboard with the same module built for it
(widget/markdown.js). Every case of frontend-widget/test/markdown_cases.json, the file the Node
tests read, is sent by the agent and must come out the same in the widget and in the dashboard,
live and after a reload (server-rendered history formatted at load). A visitor's bold, italic,
code and link reach the agent formatted; markup and a markdown link with a javascript: address
stay literal text, with no dialog and no CSP violation. Screenshots at 1280 and 375 px in
artifacts/.
"""

import json
import re

import pytest
from playwright.sync_api import expect

from tenants.models import SiteKey
from tests.e2e.conftest import strict_csp
from tests.support.browser import recorded_page
from tests.support.customer_pages import customer_pages
from tests.support.dashboard_server import dashboard_server, log_in
from tests.support.processes import ROOT

pytestmark = [pytest.mark.e2e, pytest.mark.django_db]

SHOP = "Acme Outdoor"
CASES = json.loads((ROOT / "frontend-widget" / "test" / "markdown_cases.json").read_text())
EXPECTED = {case["input"]: case["html"] for case in CASES}
# The Node tests' serialisation, run on the nodes the browser rendered.
SERIALIZE = (ROOT / "frontend-widget" / "test" / "serialize.js").read_text()
SERIALIZE_ALL = (
    "(nodes) => {" + SERIALIZE.replace("export function", "function") + ";"
    " return nodes.map(serialize); }"
)
FORMATTED = "**bold** _it_ `code` https://example.com/x"
HOSTILE = ("<img src=x onerror=alert(1)>", "[x](javascript:alert(1))")
REPLY = "Thanks! It ships **today**, tracking at https://example.com/orders/1042"


def shop_page(platform_url: str, site_key: str) -> str:
    """The shop's page: the snippet, under a CSP allowing scripts, styles and sockets only from
    Parley's origin, and nothing inline."""
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<meta http-equiv='Content-Security-Policy' content=\"{strict_csp(platform_url)}\">"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>Orders · {SHOP}</title></head><body><h1>Your orders</h1>"
        f'<script src="{platform_url}/widget.js" data-site-key="{site_key}" async></script>'
        "</body></html>"
    )


@pytest.fixture(scope="module")
def shop(django_db_setup, django_db_blocker):
    pages: dict[str, str] = {}
    with (
        customer_pages(pages) as origin,
        dashboard_server(
            django_db_blocker,
            slug="markdown-e2e",
            name=SHOP,
            origins=(origin,),
            # The agent sends every case in a burst.
            PARLEY_WS_FRAME_RATE="1000",
        ) as server,
    ):
        with django_db_blocker.unblock():
            key = SiteKey.objects.filter(site=server.site, revoked_at=None).first().key
        pages["/"] = shop_page(server.platform_url, key)
        server.origin = origin
        yield server


def watch_dialogs(*recorded) -> list[str]:
    dialogs: list[str] = []
    for each in recorded:
        each.page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    return dialogs


def open_widget(page, shop):
    page.goto(f"{shop.origin}/")
    page.get_by_role("button", name=re.compile(r"^Open chat")).click()
    panel = page.get_by_role("dialog", name=f"{SHOP} site")
    expect(panel).to_be_visible()
    return panel


def say(page, panel, text: str) -> None:
    box = page.get_by_label("Your message")
    box.fill(text)
    box.press("Enter")
    expect(panel.locator("li.mine.pending")).to_have_count(0)
    expect(box).to_have_value("")


def room_of(page) -> str:
    return page.evaluate(
        """() => {
          const key = Object.keys(localStorage).find((k) => k.endsWith(':session'));
          return JSON.parse(localStorage.getItem(key)).conversation;
        }"""
    )


def open_conversation(page, shop, room: str) -> None:
    page.goto(f"{shop.tenant_url}/conversations/room/{room}/")
    expect(page.locator("#live-status")).to_have_attribute("data-state", "live")


def serialized(locator) -> list[str]:
    return locator.evaluate_all(SERIALIZE_ALL)


def assert_formatted(text) -> None:
    """`text`: the element showing FORMATTED, in the widget or the dashboard."""
    expect(text.locator("strong")).to_have_text("bold")
    expect(text.locator("em")).to_have_text("it")
    expect(text.locator("code")).to_have_text("code")
    link = text.get_by_role("link", name="https://example.com/x")
    expect(link).to_have_attribute("href", "https://example.com/x")
    expect(link).to_have_attribute("target", "_blank")
    expect(link).to_have_attribute("rel", "noopener noreferrer nofollow")
    assert serialized(text) == [EXPECTED[FORMATTED]]


def assert_literal(*texts) -> None:
    """`texts`: the elements showing HOSTILE, in order: their own words, no element at all."""
    for text, hostile in zip(texts, HOSTILE, strict=True):
        expect(text).to_have_text(hostile)
        expect(text.locator("*")).to_have_count(0)


def test_a_visitors_formatting_reaches_the_agent_live_and_after_a_reload(shop, module_browser):
    with (
        recorded_page(module_browser, width=1280, height=860) as visitor,
        recorded_page(module_browser, width=1280, height=860, timezone_id="UTC") as agent,
    ):
        dialogs = watch_dialogs(visitor, agent)
        shopper = visitor.page
        panel = open_widget(shopper, shop)
        say(shopper, panel, "Hello, a question about order 1042")
        room = room_of(shopper)

        page = agent.page
        log_in(page, shop)
        open_conversation(page, shop, room)
        visitor_texts = page.locator(".message.author-visitor > .text")
        expect(visitor_texts).to_have_count(1)

        for text in (FORMATTED, *HOSTILE):
            say(shopper, panel, text)
        mine = panel.locator("li.mine .bubble")
        assert_formatted(mine.nth(1))
        assert_literal(mine.nth(2), mine.nth(3))

        # Live in the dashboard, then from the server's page after a reload.
        expect(visitor_texts).to_have_count(4)
        assert_formatted(visitor_texts.nth(1))
        assert_literal(visitor_texts.nth(2), visitor_texts.nth(3))
        page.reload()
        expect(page.locator("#live-status")).to_have_attribute("data-state", "live")
        expect(visitor_texts).to_have_count(4)
        assert_formatted(visitor_texts.nth(1))
        assert_literal(visitor_texts.nth(2), visitor_texts.nth(3))

        box = page.get_by_label("Reply", exact=True)
        box.fill(REPLY)
        box.press("Enter")
        reply = panel.locator("li.agent .bubble")
        expect(reply.locator("strong")).to_have_text("today")
        expect(reply.get_by_role("link")).to_have_attribute(
            "href", "https://example.com/orders/1042"
        )
        expect(page.locator(".message.author-agent:not(.pending) > .text strong")).to_have_text(
            "today"
        )

        visitor.screenshot("markdown-widget-1280.png")
        agent.screenshot("markdown-conversation-1280.png")
        shopper.set_viewport_size({"width": 375, "height": 740})
        expect(panel).to_be_visible()
        visitor.screenshot("markdown-widget-375.png")
        assert shopper.evaluate("document.documentElement.scrollWidth") <= 375
        with recorded_page(module_browser, width=375, height=740, timezone_id="UTC") as phone:
            log_in(phone.page, shop)
            open_conversation(phone.page, shop, room)
            assert_formatted(phone.page.locator(".message.author-visitor > .text").nth(1))
            phone.page.locator(".message.author-agent").last.scroll_into_view_if_needed()
            phone.screenshot("markdown-conversation-375.png")
            # Formatted messages wrap inside the thread, and the page never scrolls sideways.
            assert phone.page.locator("#messages").evaluate(
                "(list) => list.scrollWidth <= list.clientWidth"
            )
            assert phone.page.evaluate("document.documentElement.scrollWidth") <= 375
            phone.assert_clean()

        assert dialogs == []
        visitor.assert_clean()
        agent.assert_clean()


def test_every_case_renders_alike_in_the_widget_and_the_dashboard(shop, module_browser):
    expected = [case["html"] for case in CASES]
    with (
        recorded_page(module_browser, width=1280, height=860) as visitor,
        recorded_page(module_browser, width=1280, height=860, timezone_id="UTC") as agent,
    ):
        dialogs = watch_dialogs(visitor, agent)
        shopper = visitor.page
        panel = open_widget(shopper, shop)
        say(shopper, panel, "Can you show me every kind of formatting?")
        page = agent.page
        log_in(page, shop)
        open_conversation(page, shop, room_of(shopper))

        box = page.get_by_label("Reply", exact=True)
        for case in CASES:
            box.fill(case["input"])
            box.press("Enter")
            expect(box).to_have_value("")
        in_dashboard = page.locator(".message.author-agent:not(.pending) > .text")
        in_widget = panel.locator("li.agent .bubble")
        expect(in_dashboard).to_have_count(len(CASES))
        expect(in_widget).to_have_count(len(CASES))
        assert serialized(in_dashboard) == expected
        assert serialized(in_widget) == expected

        # The history: the dashboard's page from the server, the widget's from its socket.
        page.reload()
        shopper.reload()  # the widget stays open across pages
        expect(panel).to_be_visible()
        expect(in_dashboard).to_have_count(len(CASES))
        expect(in_widget).to_have_count(len(CASES))
        assert serialized(in_dashboard) == expected
        assert serialized(in_widget) == expected

        for shown in (in_widget, in_dashboard):
            shown.locator("pre").first.scroll_into_view_if_needed()
        visitor.screenshot("markdown-cases-widget-1280.png")
        agent.screenshot("markdown-cases-conversation-1280.png")

        assert dialogs == []
        visitor.assert_clean()
        agent.assert_clean()
