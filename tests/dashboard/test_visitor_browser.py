"""What the agent learns of the visitor, seen in chromium: the real widget on a customer page of a
second origin, a real daphne, and the agent on the conversation page.

The visitor panel shows what the browser reported (page, referrer, browser and OS, language,
local time), the place of the address, the custom attributes of `identify` and the visitor's
other conversations, and follows a single-page application's navigation live. The typing preview
is disclosed in the widget and shows the agent the draft only while the site has it on. "Seen"
is shown on both sides after a reload (read marks in `ready`). Desktop width and 375 px;
screenshots in artifacts/.
"""

import hashlib
import hmac
import re

import pytest
from mmdb_writer import MMDBWriter
from netaddr import IPSet
from playwright.sync_api import expect

from tenants.models import SiteKey
from tests.support.browser import recorded_page
from tests.support.customer_pages import customer_pages, widget_page
from tests.support.dashboard_server import dashboard_server, log_in
from widget.models import Conversation, Message, Visitor

pytestmark = [pytest.mark.e2e, pytest.mark.django_db]

SHOP = "Acme Outdoor"
USER_ID = "u-1042"
# Every frame the dashboard's socket tells its modules (inbox.js's `parley:frame` events).
RECORD_FRAMES = """
window.__frames = [];
document.addEventListener("parley:frame", (event) => window.__frames.push(event.detail));
"""
REFERRER = "https://search.example.org/results?q=four+season+tent"
LONG_QUERY = "utm_source=newsletter&utm_medium=email&utm_campaign=winter-sale-2026-sleeping-bags"


def _places(path) -> None:
    """A GeoIP2-City file placing the loopback addresses (the browser's) in Vienna."""
    writer = MMDBWriter(ip_version=6, ipv4_compatible=True, database_type="GeoIP2-City")
    place = {
        "country": {"iso_code": "AT", "names": {"en": "Austria"}},
        "city": {"names": {"en": "Vienna"}},
    }
    writer.insert_network(IPSet(["127.0.0.0/8"]), place)
    writer.insert_network(IPSet(["::1/128"]), place)
    writer.to_db_file(str(path))


def _seed(tenant, site, owner) -> dict:
    """Greta, a customer known by her user id, with an earlier conversation, closed."""
    greta = Visitor.objects.create(site_id=site.id, external_id=USER_ID, name="Greta Lindqvist")
    earlier = Conversation.objects.create(
        room="cv_greta_earlier", site_id=site.id, visitor=greta, status=Conversation.Status.CLOSED
    )
    Message.objects.create(
        conversation=earlier,
        author_kind="visitor",
        author_id=str(greta.id),
        author_name="Greta Lindqvist",
        text="Where is my order?",
    )
    Conversation.objects.filter(pk=earlier.pk).update(last_message_at=earlier.created_at)
    # Her session's room of today (a session makes it; she has not written in it yet).
    Conversation.objects.create(room="cv_greta_today", site_id=site.id, visitor=greta)
    return {"earlier": earlier.pk}


@pytest.fixture(scope="module")
def shop(django_db_setup, django_db_blocker, tmp_path_factory):
    """The dashboard (`shop.server`) and the customer's site (`shop.url(path)`): `/` identifies
    Greta through `identify` (hash and attributes) and navigates like a single-page application;
    `/help` is any anonymous visitor's page."""
    places = tmp_path_factory.mktemp("geoip") / "City.mmdb"
    _places(places)
    pages: dict[str, str] = {}
    with (
        customer_pages(pages) as origin,
        dashboard_server(
            django_db_blocker,
            slug="visitor-e2e",
            name=SHOP,
            origins=(origin,),
            seed=_seed,
            PARLEY_GEOIP_PATH=str(places),
        ) as server,
    ):
        with django_db_blocker.unblock():
            key = SiteKey.objects.filter(site=server.site, revoked_at=None).first().key
        proof = hmac.new(
            server.site.identity_secret.encode(), USER_ID.encode(), hashlib.sha256
        ).hexdigest()
        pages["/"] = _single_page_app(server.platform_url, key, proof)
        pages["/help"] = widget_page(server.platform_url, key, title=f"Help · {SHOP}")
        server.origin = origin
        yield server


def _single_page_app(platform_url: str, site_key: str, proof: str) -> str:
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Tents · {SHOP}</title></head>
<body>
  <h1>Tents</h1>
  <nav><a id="to-bags" href="/sleeping-bags">Sleeping bags</a></nav>
  <script>
    window.Parley = window.Parley || function () {{ (Parley.q = Parley.q || []).push(arguments); }};
    Parley("identify", {{
      id: "{USER_ID}", name: "Greta Lindqvist", email: "greta.lindqvist@example.com",
      hash: "{proof}",
      attributes: {{
        plan: "Pro", orders: 12, newsletter: true, company: "Lindqvist Outfitters AB",
      }},
    }});
    document.getElementById("to-bags").addEventListener("click", (event) => {{
      event.preventDefault();
      history.pushState({{}}, "", "/sleeping-bags?{LONG_QUERY}");
      document.title = "Sleeping bags · {SHOP}";
      document.querySelector("h1").textContent = "Sleeping bags";
    }});
  </script>
  <script src="{platform_url}/widget.js" data-site-key="{site_key}" async></script>
</body></html>"""


def open_widget(page, url: str, **goto):
    page.goto(url, **goto)
    page.get_by_role("button", name=re.compile(r"^Open chat")).click()
    panel = page.get_by_role("dialog", name=f"{SHOP} site")
    expect(panel).to_be_visible()
    return panel


def say(page, panel, text: str) -> None:
    box = page.get_by_label("Your message")
    box.fill(text)
    box.press("Enter")
    expect(panel.locator("li.mine:not(.pending)", has_text=text)).to_be_visible()


def room_of(page) -> str:
    return page.evaluate(
        """() => {
          const key = Object.keys(localStorage).find((k) => k.endsWith(':session'));
          return JSON.parse(localStorage.getItem(key)).conversation;
        }"""
    )


def agent_page(browser, *, width=1280, height=900):
    return recorded_page(
        browser, width=width, height=height, init_scripts=(RECORD_FRAMES,), timezone_id="UTC"
    )


def open_conversation(page, shop, room: str) -> None:
    page.goto(f"{shop.tenant_url}/conversations/room/{room}/")
    expect(page.locator("#live-status")).to_have_attribute("data-state", "live")


def field(page, name: str):
    return page.locator(f'#visitor-panel [data-field="{name}"]')


def attribute(page, key: str):
    return page.locator(f'#visitor-attributes dt:text-is("{key}") + dd')


def lines(locator) -> float:
    """How many lines of its text the element shows."""
    return locator.evaluate(
        "(node) => node.getBoundingClientRect().height"
        " / parseFloat(getComputedStyle(node).lineHeight)"
    )


def no_sideways_scroll(page, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def test_the_panel_shows_the_visitor_and_follows_their_navigation(shop, module_browser):
    with (
        recorded_page(
            module_browser, locale="en-GB", timezone_id="Europe/Vienna", width=1280
        ) as visitor,
        agent_page(module_browser) as agent,
    ):
        shopper = visitor.page
        panel = open_widget(shopper, f"{shop.origin}/", referer=REFERRER)
        say(shopper, panel, "Do you ship sleeping bags to Austria?")
        room = room_of(shopper)

        page = agent.page
        log_in(page, shop)
        open_conversation(page, shop, room)
        expect(field(page, "name")).to_have_text("Greta Lindqvist")
        expect(field(page, "email")).to_have_text("greta.lindqvist@example.com")
        expect(page.locator("#visitor-details")).to_contain_text(f"Verified user {USER_ID}")
        expect(page.locator("#visitor-page")).to_have_text(f"Tents · {SHOP}")
        expect(page.locator("#visitor-page-url")).to_have_text(f"{shop.origin}/")
        expect(field(page, "referrer")).to_have_text(re.compile(r"^https://search\.example\.org/"))
        expect(field(page, "browser")).to_contain_text(re.compile(r"Chrome.* on Linux"))
        expect(field(page, "locale")).to_have_text("en-GB")
        expect(field(page, "local-time")).to_contain_text(
            re.compile(r"^\d\d:\d\d \(Europe/Vienna\)")
        )
        expect(field(page, "place")).to_have_text("Vienna, Austria")
        attributes = {
            "plan": "Pro",
            "orders": "12",
            "newsletter": "true",
            "company": "Lindqvist Outfitters AB",
        }
        for key, value in attributes.items():
            expect(attribute(page, key)).to_have_text(value)
        past = page.locator("#past-conversations li")
        expect(past).to_have_count(1)
        expect(past.locator(".badge")).to_have_text("Closed")
        expect(past.locator("a")).to_have_attribute(
            "href", f"/conversations/{shop.seeded['earlier']}/"
        )

        # A single-page application's navigation reaches the panel live, as a whole: the new
        # page's title and its (long) address.
        shopper.click("#to-bags")
        expect(page.locator("#visitor-page")).to_have_text(f"Sleeping bags · {SHOP}")
        expect(page.locator("#visitor-page-url")).to_have_text(
            f"{shop.origin}/sleeping-bags?{LONG_QUERY}"
        )
        expect(page.locator("#visitor-page")).to_have_attribute(
            "href", f"{shop.origin}/sleeping-bags?{LONG_QUERY}"
        )
        agent.screenshot("visitor-panel-desktop.png", full_page=True)
        no_sideways_scroll(page, 1280)
        # The address stays inside the panel, in two lines at most (the whole in its title).
        url = page.locator("#visitor-page-url")
        box, aside = url.bounding_box(), page.locator("aside.details").bounding_box()
        assert box["x"] + box["width"] <= aside["x"] + aside["width"]
        assert lines(url) <= 2
        expect(url).to_have_attribute("title", f"{shop.origin}/sleeping-bags?{LONG_QUERY}")
        assert lines(field(page, "referrer")) <= 2

        page.set_viewport_size({"width": 375, "height": 800})
        page.reload()
        expect(page.locator("#visitor-page")).to_have_text(f"Sleeping bags · {SHOP}")
        for key, value in attributes.items():  # the server shows them as the live frame did
            expect(attribute(page, key)).to_have_text(value)
        expect(field(page, "last-seen").locator("time[data-chat-time]")).to_have_count(1)
        agent.screenshot("visitor-panel-375.png", full_page=True)
        no_sideways_scroll(page, 375)
        visitor.assert_clean()
        agent.assert_clean()


def test_the_typing_preview_shows_the_draft_only_on_a_site_that_enabled_it(shop, module_browser):
    with (
        recorded_page(module_browser, width=375, height=740) as visitor,
        agent_page(module_browser) as agent,
    ):
        shopper = visitor.page
        panel = open_widget(shopper, f"{shop.origin}/help")
        say(shopper, panel, "Hello, a question about tents")
        room = room_of(shopper)
        page = agent.page
        log_in(page, shop)
        open_conversation(page, shop, room)

        # Off (the default): no disclosure, and the agent learns that the visitor types, not what.
        expect(panel.locator(".disclosure")).to_have_count(0)
        shopper.get_by_label("Your message").press_sequentially("my card is 4242", delay=40)
        expect(page.locator("#typing")).to_be_visible()
        expect(page.locator("#typing-draft")).to_be_hidden()
        shopper.get_by_label("Your message").fill("")

        _set_typing_preview(page, shop, on=True)
        page.goto(f"{shop.tenant_url}/conversations/room/{room}/")
        expect(page.locator("#live-status")).to_have_attribute("data-state", "live")
        shopper.reload()
        panel = shopper.get_by_role("dialog", name=f"{SHOP} site")
        disclosure = panel.locator(".disclosure")
        expect(disclosure).to_have_text("The team sees what you type before you send it.")
        visitor.screenshot("typing-preview-widget-375.png")
        box = shopper.get_by_label("Your message")
        box.press_sequentially("Is the Ridge 2 in stock", delay=30)
        draft = page.locator("#typing-draft")
        expect(draft).to_have_text(re.compile(r"is typing: Is the Ridge 2 in stock$"))
        expect(page.locator("#typing")).to_be_hidden()  # the draft says it, with the words
        agent.screenshot("typing-preview-agent-desktop.png", full_page=True)
        box.press("Enter")
        expect(page.locator("#messages li", has_text="Is the Ridge 2 in stock")).to_be_visible()
        expect(draft).to_be_hidden()

        page.set_viewport_size({"width": 375, "height": 800})
        box.press_sequentially("And the Ridge 3", delay=30)
        expect(draft).to_have_text(re.compile(r"is typing: And the Ridge 3$"))
        agent.screenshot("typing-preview-agent-375.png", full_page=True)
        no_sideways_scroll(page, 375)
        box.fill("")

        # Off again: the next page load of the widget sends no draft and discloses nothing.
        page.set_viewport_size({"width": 1280, "height": 900})
        _set_typing_preview(page, shop, on=False)
        open_conversation(page, shop, room)
        shopper.reload()
        panel = shopper.get_by_role("dialog", name=f"{SHOP} site")
        expect(panel).to_be_visible()
        expect(panel.locator(".disclosure")).to_have_count(0)
        shopper.get_by_label("Your message").press_sequentially("my other card", delay=40)
        expect(page.locator("#typing")).to_be_visible()
        expect(page.locator("#typing-draft")).to_be_hidden()
        drafts = page.evaluate(
            "window.__frames.filter((f) => f.type === 'typing' && 'draft' in f).length"
        )
        assert drafts == 0
        visitor.assert_clean()
        agent.assert_clean()


def _set_typing_preview(page, shop, *, on: bool) -> None:
    """As an admin does it: the site's settings page."""
    page.goto(f"{shop.tenant_url}/sites/{shop.site.pk}/")
    page.get_by_label("Show agents what visitors type").set_checked(on)
    page.click("#site-save")
    # The page's own messages: the widget's preview beside the form has a `.flash` of its own.
    expect(page.locator("#flash")).to_be_visible()


def test_seen_is_shown_on_both_sides_after_a_reload(shop, module_browser):
    with (
        recorded_page(module_browser, width=375, height=740) as visitor,
        agent_page(module_browser) as agent,
    ):
        shopper = visitor.page
        panel = open_widget(shopper, f"{shop.origin}/help")
        say(shopper, panel, "Are the Ridge tents freestanding?")
        mine = panel.locator("li.mine").last
        expect(mine.locator(".meta")).not_to_contain_text("Seen")
        room = room_of(shopper)

        page = agent.page
        log_in(page, shop)
        open_conversation(page, shop, room)  # the agent reads it
        expect(mine.locator(".meta")).to_contain_text("Seen")
        page.fill("#id_text", "Yes, all of them.")
        page.keyboard.press("Enter")
        expect(panel.locator("li.agent", has_text="Yes, all of them.")).to_be_visible()
        expect(page.locator("#seen")).to_contain_text("Seen by")  # the open widget read it

        shopper.reload()
        panel = shopper.get_by_role("dialog", name=f"{SHOP} site")
        expect(panel.locator("li")).to_have_count(2)
        expect(panel.locator("li.mine").last.locator(".meta")).to_contain_text("Seen")
        visitor.screenshot("widget-seen-after-reload-375.png")

        page.reload()
        expect(page.locator("#seen")).to_be_visible()
        expect(page.locator("#seen")).to_contain_text("Seen by")
        agent.screenshot("conversation-seen-after-reload-desktop.png", full_page=True)
        visitor.assert_clean()
        agent.assert_clean()


def _set_prechat(page, shop, *, mode: str, questions: str) -> None:
    """As an admin does it: the site page's pre-chat section."""
    page.goto(f"{shop.tenant_url}/sites/{shop.site.pk}/")
    page.get_by_label("Before the first message").select_option(mode)
    page.get_by_label("Your own questions").fill(questions)
    page.click("#site-save")
    expect(page.locator("#flash")).to_be_visible()


def test_prechat_answers_reach_the_agents_panel_live(shop, module_browser):
    with (
        recorded_page(module_browser, width=375, height=740) as visitor,
        agent_page(module_browser) as agent,
    ):
        page = agent.page
        log_in(page, shop)
        _set_prechat(
            page, shop, mode="email_required", questions="Topic | select | required | Tents, Boots"
        )
        try:
            shopper = visitor.page
            panel = open_widget(shopper, f"{shop.origin}/help")
            expect(panel.get_by_label("Topic")).to_be_visible()
            open_conversation(page, shop, room_of(shopper))
            expect(page.locator("#visitor-prechat")).to_have_text("None")

            panel.get_by_label("Email", exact=True).fill("ines@example.com")
            panel.get_by_label("Topic").select_option("Boots")
            panel.get_by_role("button", name="Start the chat").click()
            expect(shopper.get_by_label("Your message")).to_be_focused()
            answers = page.locator("#visitor-prechat")
            expect(answers.locator('dt:text-is("Topic") + dd')).to_have_text("Boots")
            expect(field(page, "email")).to_have_text("ines@example.com")
            agent.screenshot("prechat-answers-agent-desktop.png")
            visitor.assert_clean()
            agent.assert_clean()
        finally:
            _set_prechat(page, shop, mode="none", questions="")
