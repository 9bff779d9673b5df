"""The widget against the real backend: a real daphne on the test database, a customer page on a
second origin (http://127.0.0.1:<port>) embedding the widget from the platform host
(http://localhost:<port>), Debian's chromium, and a real agent on `ws/agent/` or the site-key API.
Nothing of Parley is stubbed.
"""

import json
import re
from dataclasses import dataclass

import httpx
import pytest
from django_tenants.utils import schema_context
from playwright.sync_api import Page, expect

from demo.customer_page import render_customer_page, serve_customer_page
from tenants.services import api_key_create, site_update
from tests.e2e.conftest import strict_csp
from tests.support.axe import AXE, readable, serious_violations
from tests.support.browser import recorded_page
from tests.support.factories import SiteFixture, make_agent, make_site
from tests.support.processes import free_port
from tests.support.protocol_client import AgentClient, ClientThread
from widget.models import Conversation, Message, Rating

# transaction=True: the rows a test makes are committed, so daphne (another process) sees them.
pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SITE_NAME = "Acme Outdoor"
HOSTILE = "<img src=x onerror=alert(1)>"


def customer_page(platform_url: str, site_key: str) -> str:
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{SITE_NAME}</title></head>
<body>
  <h1>{SITE_NAME}</h1>
  <details><summary>Opening hours</summary><p id="hours">Mon to Fri, 9 to 17</p></details>
  <label>Search <input id="search"></label>
  <a id="about" href="/about.html">About us</a>
  <script src="{platform_url}/widget.js" data-site-key="{site_key}" async></script>
</body></html>"""


@dataclass
class Shop:
    """A customer's page (`url`) embedding the widget for `site`."""

    site: SiteFixture
    url: str


@pytest.fixture
def shop_for(parley, tenant_a, customer_site):
    """A customer page on its own origin, with a site of tenant_a allowing `allowed` (by default
    the page's own origin) and the page's response headers."""

    def make(
        *,
        headers: dict[str, str] | None = None,
        allowed: str | None = None,
        consent_text: str | None = None,
    ) -> Shop:
        pages: dict[str, str] = {
            "/about.html": "<!doctype html><title>About</title><h1>About Acme</h1>"
        }
        origin = customer_site(pages, headers or {})
        site = make_site(tenant_a, name=SITE_NAME, origin=allowed or origin)
        if consent_text is not None:
            site_update(site=site.site, consent_required=True, consent_text=consent_text)
        pages["/"] = customer_page(parley.platform_url, site.key)
        return Shop(site=site, url=f"{origin}/")

    return make


@pytest.fixture
def api_reply(parley, tenant_a):
    """Send as an agent through the site-key API: POST /api/v1/conversations/{id}/messages."""
    _, key = api_key_create(tenant=tenant_a, name="e2e")

    def send(room: str, text: str) -> dict:
        with schema_context(tenant_a.schema_name):
            conversation_id = Conversation.objects.get(room=room).id
        response = httpx.post(
            f"{parley.platform_url}/api/v1/conversations/{conversation_id}/messages",
            headers={"Authorization": f"Bearer {key}"},
            json={"text": text, "author": {"kind": "agent", "name": "Anna"}},
        )
        assert response.status_code == 201, response.text
        return response.json()

    return send


@pytest.fixture
def api_close(parley, tenant_a):
    """Close a conversation as an agent would: POST /api/v1/conversations/{id}/close."""
    _, key = api_key_create(tenant=tenant_a, name="e2e-close")

    def close(room: str) -> None:
        with schema_context(tenant_a.schema_name):
            conversation_id = Conversation.objects.get(room=room).id
        response = httpx.post(
            f"{parley.platform_url}/api/v1/conversations/{conversation_id}/close",
            headers={"Authorization": f"Bearer {key}"},
        )
        assert response.status_code == 200, response.text

    return close


def open_widget(page: Page, url: str):
    page.goto(url)
    page.get_by_role("button", name=re.compile(r"^Open chat")).click()
    panel = page.get_by_role("dialog", name=SITE_NAME)
    expect(panel).to_be_visible()
    return panel


def send(page: Page, text: str) -> None:
    textarea = page.get_by_label("Your message")
    textarea.fill(text)
    textarea.press("Enter")


def stored(panel, text: str):
    """The message with this text, shown as stored (not pending)."""
    return panel.locator("li:not(.pending)", has_text=text)


def room_of(page: Page, site: SiteFixture) -> str:
    session = page.evaluate(f"localStorage.getItem('parley:{site.key}:session')")
    return json.loads(session)["conversation"]


def stored_texts(site: SiteFixture, room: str, text: str) -> list[tuple[str, str]]:
    with schema_context(site.tenant.schema_name):
        rows = Message.objects.filter(conversation__room=room, text=text)
        return list(rows.values_list("client_id", "author_kind"))


def test_a_visitor_and_an_agent_talk_live_across_origins(
    parley, tenant_a, shop_for, module_browser
):
    shop = shop_for()
    agent = AgentClient("agent", make_agent(tenant_a), port=parley.port)
    with ClientThread(agent) as thread, recorded_page(module_browser) as visitor:
        page = visitor.page
        panel = open_widget(page, shop.url)
        send(page, "Do you have 2-person tents?")
        expect(stored(panel, "Do you have 2-person tents?")).to_be_visible()

        room = room_of(page, shop.site)
        thread.run(agent.wait_until(lambda: agent.messages_with("Do you have 2-person tents?")))
        thread.run(agent.send_message("a-1", "Yes: the Ridge 2.", conversation=room))
        expect(panel.locator("li.agent", has_text="Yes: the Ridge 2.")).to_be_visible()
        expect(panel.locator("li")).to_have_count(2)
        assert visitor.errors() == []
    assert len(agent.messages_with("Do you have 2-person tents?")) == 1


def test_a_reload_keeps_the_conversation(parley, shop_for, api_reply, module_browser):
    shop = shop_for()
    with recorded_page(module_browser) as visitor:
        page = visitor.page
        panel = open_widget(page, shop.url)
        send(page, "Is the Ridge 2 waterproof?")
        expect(stored(panel, "Is the Ridge 2 waterproof?")).to_be_visible()
        room = room_of(page, shop.site)
        api_reply(room, "Yes, 3000 mm.")
        expect(panel.locator("li.agent", has_text="Yes, 3000 mm.")).to_be_visible()
        shown = panel.locator("li").all_inner_texts()

        page.reload()
        panel = page.get_by_role("dialog", name=SITE_NAME)
        expect(panel).to_be_visible()  # it was open before the reload
        expect(panel.locator("li")).to_have_count(2)
        assert panel.locator("li").all_inner_texts() == shown
        assert room_of(page, shop.site) == room
        assert visitor.errors() == []


def test_a_message_sent_while_parley_restarts_is_delivered_once(
    parley, tenant_a, shop_for, module_browser
):
    shop = shop_for()
    text = "Typed while Parley was down"
    with recorded_page(module_browser) as visitor:
        page = visitor.page
        panel = open_widget(page, shop.url)
        send(page, "Before the restart")
        expect(stored(panel, "Before the restart")).to_be_visible()
        room = room_of(page, shop.site)

        agent = AgentClient("agent", make_agent(tenant_a), port=parley.port, watch=(room,))
        with ClientThread(agent) as thread:
            parley.stop()
            expect(panel.get_by_text("You are offline. Reconnecting…")).to_be_visible()
            send(page, text)
            expect(panel.locator("li.pending", has_text=text)).to_be_visible()
            parley.start()

            expect(stored(panel, text)).to_be_visible(timeout=20_000)
            expect(panel.get_by_text("You are offline. Reconnecting…")).to_be_hidden()
            expect(panel.locator("li")).to_have_count(2)
            thread.run(agent.wait_until(lambda: agent.messages_with(text)))
            # The restart cut the agent off too: told 1012 by the draining worker, it came back.
            # (A reconnect that reached the draining worker just before it stopped listening is
            # closed again, 1012 or dropped: never an error close.)
            assert agent.close_codes[0] == 1012, agent.close_codes
            assert set(agent.close_codes) <= {1012, 1006}, agent.close_codes
            assert agent.connections >= 2
            [message_id] = agent.messages_with(text)
            assert agent.seen[message_id] <= 1

        [(client_id, author_kind)] = stored_texts(shop.site, room, text)
        assert client_id
        assert author_kind == "visitor"
        assert visitor.page_errors == []


def test_markup_in_a_message_is_shown_as_text_and_runs_nothing(
    parley, shop_for, api_reply, module_browser
):
    shop = shop_for()
    with recorded_page(module_browser) as visitor:
        page = visitor.page
        dialogs: list[str] = []
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        panel = open_widget(page, shop.url)
        send(page, HOSTILE)
        expect(stored(panel, HOSTILE)).to_be_visible()
        api_reply(room_of(page, shop.site), HOSTILE)
        expect(panel.locator("li.agent", has_text=HOSTILE)).to_be_visible()

        assert panel.locator("li .bubble").all_inner_texts() == [HOSTILE, HOSTILE]
        assert page.locator("parley-widget img").count() == 0
        page.wait_for_timeout(300)  # an image error handler would have fired by now
        assert dialogs == []
        assert visitor.errors() == []


def test_the_widget_works_under_a_strict_content_security_policy(
    parley, shop_for, api_reply, module_browser
):
    shop = shop_for(headers={"Content-Security-Policy": strict_csp(parley.platform_url)})
    with recorded_page(module_browser) as visitor:
        page = visitor.page
        panel = open_widget(page, shop.url)
        send(page, "Hello under CSP")
        expect(stored(panel, "Hello under CSP")).to_be_visible()
        api_reply(room_of(page, shop.site), "Hello back")
        expect(panel.locator("li.agent", has_text="Hello back")).to_be_visible()
        # The site's color reached the shadow root (a constructed stylesheet, not inline style).
        launcher = page.locator("parley-widget .launcher")
        assert launcher.evaluate("b => getComputedStyle(b).backgroundColor") != "rgba(0, 0, 0, 0)"
        assert visitor.csp_violations() == []
        assert visitor.errors() == []


def test_a_page_on_an_origin_not_allowed_gets_no_widget_and_keeps_working(
    parley, shop_for, module_browser
):
    shop = shop_for(allowed="https://elsewhere.example")
    with recorded_page(module_browser) as visitor:
        page = visitor.page
        page.goto(shop.url)
        page.wait_for_function("() => window.Parley && window.Parley.loaded === true")
        page.wait_for_timeout(500)

        errors = [t for t in visitor.console_texts("error") if t.startswith("Parley:")]
        assert len(errors) == 1, visitor.console_texts()
        origin = shop.url.rstrip("/")
        assert f"origin {origin} is not allowed" in errors[0]
        assert shop.site.key in errors[0]
        assert page.locator("parley-widget").count() == 0
        assert visitor.page_errors == []

        page.get_by_text("Opening hours").click()
        expect(page.locator("#hours")).to_be_visible()
        page.locator("#search").fill("tent")
        expect(page.locator("#search")).to_have_value("tent")
        page.locator("#about").click()
        expect(page.get_by_role("heading", name="About Acme")).to_be_visible()


def test_screenshot_of_the_open_widget_on_the_demo_customer_page(
    parley, tenant_a, api_reply, module_browser
):
    """The page `make run` serves, with a conversation in the open widget: artifacts/."""
    port = free_port()
    origin = f"http://127.0.0.1:{port}"
    site = make_site(tenant_a, name=SITE_NAME, origin=origin)
    html = render_customer_page(
        platform_url=parley.platform_url,
        tenant_url=f"http://{tenant_a.slug}.localhost:{parley.port}",
        site_key=site.key,
        origin=origin,
    )
    server = serve_customer_page(host="127.0.0.1", port=port, html=html)
    try:
        with recorded_page(module_browser) as visitor:
            page = visitor.page
            panel = open_widget(page, f"{origin}/")
            send(page, "Hi! Which tent for two people on a windy ridge?")
            expect(stored(panel, "windy ridge")).to_be_visible()
            api_reply(
                room_of(page, site),
                "Hello! The Ridge 2 is our sturdiest two-person tent: see https://example.com/ridge-2",
            )
            expect(panel.locator("li.agent a")).to_have_text("https://example.com/ridge-2")
            expect(page.get_by_role("heading", name="Tents, packs and good advice")).to_be_visible()
            path = visitor.screenshot("widget-demo-open.png")
            assert path.stat().st_size > 10_000
            assert visitor.errors() == []
    finally:
        server.shutdown()
        server.server_close()


LOST = "Connection lost. Your messages will be sent when you are back online."


def test_a_dropped_network_shows_at_once_and_a_message_typed_meanwhile_is_delivered_once(
    parley, shop_for, module_browser
):
    shop = shop_for()
    text = "Typed without a network"
    with recorded_page(module_browser) as visitor:
        page = visitor.page
        panel = open_widget(page, shop.url)
        send(page, "Before the network went")
        expect(stored(panel, "Before the network went")).to_be_visible()
        room = room_of(page, shop.site)

        page.context.set_offline(True)
        # The browser's `offline` event, not a keepalive's timeout: the state is there at once.
        expect(panel.get_by_text(LOST)).to_be_visible(timeout=2_000)
        send(page, text)
        expect(panel.locator("li.pending", has_text=text)).to_contain_text("Sending…")
        page.context.set_offline(False)

        expect(stored(panel, text)).to_be_visible(timeout=10_000)
        expect(panel.get_by_text(LOST)).to_be_hidden()
        expect(page.get_by_role("status").filter(has_text="Connected again.")).to_be_attached()
        expect(panel.locator("li")).to_have_count(2)
        assert [author for _, author in stored_texts(shop.site, room, text)] == ["visitor"]
        assert visitor.page_errors == []


def test_the_widget_recovers_from_five_network_drops_in_a_row(parley, shop_for, module_browser):
    shop = shop_for()
    with recorded_page(module_browser) as visitor:
        page = visitor.page
        panel = open_widget(page, shop.url)
        send(page, "Hello")
        expect(stored(panel, "Hello")).to_be_visible()
        room = room_of(page, shop.site)
        for cycle in range(1, 6):
            page.context.set_offline(True)
            expect(panel.get_by_text(LOST)).to_be_visible(timeout=2_000)
            send(page, f"Drop number {cycle}")
            page.context.set_offline(False)
            # Live again: the message goes, and no "Reconnecting…" is left behind. (A busy CI
            # machine may take a few seconds to answer; a widget stuck in its backoff takes 30.)
            expect(stored(panel, f"Drop number {cycle}")).to_be_visible(timeout=10_000)
            expect(panel.locator(".notice")).to_be_hidden()
            expect(panel.locator("li")).to_have_count(cycle + 1)
        for cycle in range(1, 6):
            assert len(stored_texts(shop.site, room, f"Drop number {cycle}")) == 1
        assert visitor.page_errors == []


@pytest.mark.parametrize(("width", "height"), [(1280, 800), (375, 740)])
def test_screenshot_of_the_offline_state(parley, shop_for, module_browser, width, height):
    shop = shop_for()
    with recorded_page(module_browser, width=width, height=height) as visitor:
        page = visitor.page
        panel = open_widget(page, shop.url)
        send(page, "Is the Ridge 2 in stock?")
        expect(stored(panel, "Is the Ridge 2 in stock?")).to_be_visible()
        page.context.set_offline(True)
        expect(panel.get_by_text(LOST)).to_be_visible(timeout=2_000)
        send(page, "And in green?")
        expect(panel.locator("li.pending", has_text="And in green?")).to_be_visible()
        visitor.screenshot(f"widget-offline-{width}.png")
        page.context.set_offline(False)
        expect(stored(panel, "And in green?")).to_be_visible()


CONSENT = "Acme keeps this chat for 30 days to answer you. Nothing is stored before you accept."

# Every way a page stores something, recorded before the page's own scripts run.
RECORD_STORAGE = """
window.__writes = [];
for (const name of ["setItem", "removeItem", "clear"]) {
  const original = Storage.prototype[name];
  Storage.prototype[name] = function (...args) {
    const where = this === window.localStorage ? "local" : "session";
    window.__writes.push(`${where}.${name} ${args[0] ?? ""}`);
    return original.apply(this, args);
  };
}
const cookie = Object.getOwnPropertyDescriptor(Document.prototype, "cookie");
Object.defineProperty(Document.prototype, "cookie", {
  get() { return cookie.get.call(this); },
  set(value) { window.__writes.push(`cookie ${value}`); cookie.set.call(this, value); },
});
const openDb = IDBFactory.prototype.open;
IDBFactory.prototype.open = function (...args) {
  window.__writes.push(`indexedDB.open ${args[0]}`);
  return openDb.apply(this, args);
};
"""

STORED_NOW = """async () => ({
  writes: window.__writes,
  local: Object.keys(localStorage),
  session: Object.keys(sessionStorage),
  cookie: document.cookie,
  databases: (await indexedDB.databases()).map((db) => db.name),
})"""

NOTHING_STORED = {"writes": [], "local": [], "session": [], "cookie": "", "databases": []}


def watch_traffic(page: Page) -> tuple[list[str], list[str]]:
    """The sockets the page opens and the widget API calls it makes, as they happen."""
    sockets: list[str] = []
    calls: list[str] = []
    page.on("websocket", lambda socket: sockets.append(socket.url))
    page.on(
        "request",
        lambda request: (
            "/api/widget/v1/" in request.url
            and calls.append(f"{request.method} {request.url.split('/api/widget/v1/')[1]}")
        ),
    )
    return sockets, calls


def test_before_consent_nothing_is_stored_and_no_socket_opens(parley, shop_for, module_browser):
    shop = shop_for(consent_text=CONSENT)
    with recorded_page(module_browser, init_scripts=(RECORD_STORAGE,)) as visitor:
        page = visitor.page
        sockets, calls = watch_traffic(page)
        panel = open_widget(page, shop.url)
        expect(panel.get_by_text(CONSENT)).to_be_visible()
        accept = panel.get_by_role("button", name="Accept and chat")
        expect(accept).to_be_focused()
        expect(page.get_by_label("Your message")).to_have_count(0)

        decline = panel.get_by_role("button", name="No thanks")
        decline.click()
        expect(panel).to_be_hidden()
        expect(page.get_by_role("status").filter(has_text="nothing was stored")).to_be_attached()
        launcher = page.get_by_role("button", name=re.compile(r"^Open chat"))
        expect(launcher).to_be_focused()
        launcher.click()
        expect(panel.get_by_text(CONSENT)).to_be_visible()
        assert page.evaluate(STORED_NOW) == NOTHING_STORED
        assert sockets == []
        assert calls == [f"GET site?site_key={shop.site.key}"]

        accept.click()
        expect(page.get_by_label("Your message")).to_be_focused()
        send(page, "Hello after consent")
        expect(stored(panel, "Hello after consent")).to_be_visible()
        assert len(sockets) == 1
        assert "POST session" in calls
        assert f"parley:{shop.site.key}:consent" in page.evaluate("Object.keys(localStorage)")

        page.reload()  # remembered: no consent step, the same conversation
        panel = page.get_by_role("dialog", name=SITE_NAME)
        expect(stored(panel, "Hello after consent")).to_be_visible()
        expect(panel.get_by_text(CONSENT)).to_have_count(0)
        assert calls.count(f"GET site?site_key={shop.site.key}") == 1
        visitor.assert_clean()


@pytest.mark.parametrize(("width", "height"), [(1280, 800), (375, 740)])
def test_screenshot_of_the_consent_step(parley, shop_for, module_browser, width, height):
    shop = shop_for(consent_text=CONSENT)
    with recorded_page(module_browser, width=width, height=height) as visitor:
        panel = open_widget(visitor.page, shop.url)
        expect(panel.get_by_text(CONSENT)).to_be_visible()
        visitor.screenshot(f"widget-consent-{width}.png")
        visitor.assert_clean()


def test_a_closed_conversation_is_rated_with_the_keyboard(
    parley, tenant_a, shop_for, api_reply, api_close, module_browser
):
    shop = shop_for()
    with recorded_page(module_browser) as visitor:
        page = visitor.page
        page.add_init_script(path=str(AXE))
        panel = open_widget(page, shop.url)
        send(page, "Thanks, that is all")
        expect(stored(panel, "Thanks, that is all")).to_be_visible()
        room = room_of(page, shop.site)
        api_reply(room, "You are welcome!")
        api_close(room)

        prompt = panel.get_by_role("group", name="How was this conversation?")
        expect(prompt).to_be_visible()
        expect(page.get_by_role("status").filter(has_text="How was this")).to_be_attached()
        send_rating = panel.get_by_role("button", name="Send rating")
        expect(send_rating).to_be_disabled()
        # A radio group: Tab reaches it, the arrow keys choose.
        panel.get_by_role("radio", name="1 out of 5").focus()
        page.keyboard.press("Space")
        for _ in range(3):
            page.keyboard.press("ArrowRight")
        expect(panel.get_by_role("radio", name="4 out of 5")).to_be_checked()
        page.keyboard.press("Tab")
        expect(panel.get_by_label("Add a comment (optional)")).to_be_focused()
        page.keyboard.type("Quick and kind.")
        page.keyboard.press("Tab")
        expect(send_rating).to_be_focused()
        assert serious_violations(page) == [], readable(serious_violations(page))
        page.keyboard.press("Enter")

        expect(panel.get_by_text("Thank you for your rating!")).to_be_visible()
        with schema_context(tenant_a.schema_name):
            rating = Rating.objects.get(conversation__room=room)
        assert (rating.score, rating.comment) == (4, "Quick and kind.")
        visitor.assert_clean()


@pytest.mark.parametrize(("width", "height"), [(1280, 800), (375, 740)])
def test_screenshot_of_the_rating_prompt(
    parley, shop_for, api_reply, api_close, module_browser, width, height
):
    shop = shop_for()
    with recorded_page(module_browser, width=width, height=height) as visitor:
        page = visitor.page
        panel = open_widget(page, shop.url)
        send(page, "Does the Ridge 2 fit in a backpack?")
        expect(stored(panel, "Does the Ridge 2 fit")).to_be_visible()
        room = room_of(page, shop.site)
        api_reply(room, "Yes: packed, it is 45 cm long and weighs 2.1 kg.")
        expect(panel.locator("li.agent")).to_be_visible()
        api_close(room)
        expect(panel.get_by_role("group", name="How was this conversation?")).to_be_visible()
        panel.locator("label[for=score-4]").click()  # the fourth star
        expect(panel.get_by_role("radio", name="4 out of 5")).to_be_checked()
        visitor.screenshot(f"widget-rating-{width}.png")
        visitor.assert_clean()


@pytest.mark.parametrize(("width", "height"), [(1280, 800), (375, 740)])
def test_a_visitor_asks_for_the_conversation_by_email(
    parley, tenant_a, shop_for, api_reply, module_browser, width, height
):
    """No address known: the panel asks for one, and the transcript is then due to it (sent by
    `manage.py email_continuity`: tests/widget/mail/test_transcripts.py)."""
    shop = shop_for()
    with recorded_page(module_browser, width=width, height=height) as visitor:
        page = visitor.page
        page.add_init_script(path=str(AXE))
        panel = open_widget(page, shop.url)
        send(page, "Can you send me the sizes?")
        expect(stored(panel, "Can you send me the sizes?")).to_be_visible()
        room = room_of(page, shop.site)
        api_reply(room, "Sure: S, M and L.")
        expect(panel.locator("li.agent", has_text="S, M and L")).to_be_visible()

        panel.get_by_role("button", name="Email me this conversation").click()
        address = panel.get_by_label("Your email")
        expect(address).to_be_focused()  # the server knows no address for this visitor
        address.fill("shopper@example.com")
        visitor.screenshot(f"widget-transcript-{width}.png")
        assert serious_violations(page) == [], readable(serious_violations(page))
        address.press("Enter")
        expect(panel.get_by_role("alert")).to_have_text(
            "We will email this conversation to shopper@example.com."
        )
        expect(address).to_be_hidden()
        with schema_context(tenant_a.schema_name):
            conversation = Conversation.objects.select_related("visitor").get(room=room)
        assert conversation.transcript_requested_at is not None
        assert conversation.visitor.email == "shopper@example.com"

        panel.get_by_role("button", name="Email me this conversation").click()
        expect(panel.get_by_role("alert")).to_have_text(
            "We will email this conversation to shopper@example.com."
        )  # the address is known now; asking again before it is sent is harmless
        visitor.assert_clean()
