"""The dashboard in a real browser (Debian's chromium), served by daphne on the test database.

The inbox and a conversation are live. Signup, the site form and a first conversation against the
real agent socket are in tests/e2e/test_dashboard_live.py; here a stand-in inside the browser
(Playwright's WebSocket routes) plays the server's side of PROTOCOL.md's Agent socket, so typing,
read marks, closing and the socket's absence can be driven at will; nothing in Parley's code
knows about it. Pages must run under the dashboard's CSP with no violation and no script error.
Screenshots go to artifacts/.
"""

import json
import re
from dataclasses import dataclass, field

import pytest
from playwright.sync_api import Page, WebSocketRoute, expect

from tests.support.dashboard_server import dashboard_server, log_in
from tests.support.factories import visitor_conversation

# django_db: run alone, this module would otherwise not get the test database set up at all.
pytestmark = [pytest.mark.e2e, pytest.mark.django_db]

ROOM = "cv_greta"
GRETA = {"kind": "visitor", "id": "v-greta", "name": "Greta"}
# A message's author as the agent socket names it: with the initials and colour to draw.
GRETA_WRITING = GRETA | {"avatar": {"initials": "G", "color": 2}}


def _seed(tenant, site, owner) -> None:
    visitor_conversation(
        tenant,
        site_id=site.id,
        room=ROOM,
        texts=(("visitor", "Hello, is anyone there?"),),
        name="Greta",
        page_url="https://gamma.test/tents",
    )


@pytest.fixture(scope="module")
def server(django_db_setup, django_db_blocker):
    """daphne on the test database, with a tenant whose inbox holds one visitor's conversation."""
    with dashboard_server(
        django_db_blocker, slug="gamma-e2e", name="Gamma Gear", seed=_seed
    ) as running:
        running.site_id = running.site.id
        yield running


@dataclass
class StubAgentSocket:
    """The server's side of `ws/agent/`, enough for the inbox: it stores replies (ack, then the
    message to every agent) and answers `close_conversation` with a `conversation` event."""

    site_id: int
    refusing: bool = False
    sockets: list[WebSocketRoute] = field(default_factory=list)
    frames: list[dict] = field(default_factory=list)
    next_id: int = 100

    def install(self, page: Page) -> "StubAgentSocket":
        page.route_web_socket(re.compile(r".*/ws/agent/$"), self._connect)
        return self

    def _connect(self, ws: WebSocketRoute) -> None:
        if self.refusing:
            ws.close(code=1011, reason="down")
            return
        self.sockets.append(ws)
        ws.on_message(lambda text: self._frame(ws, json.loads(text)))

    def send(self, frame: dict) -> None:
        for ws in self.sockets:
            ws.send(json.dumps(frame))

    def visitor_says(self, text: str) -> None:
        self.next_id += 1
        self.send(
            {
                "type": "message",
                "conversation": ROOM,
                "id": self.next_id,
                "client_id": f"visitor-{self.next_id}",
                "text": text,
                "ts": "2026-11-24T10:00:00+00:00",
                "author": GRETA_WRITING,
            }
        )

    def _frame(self, ws: WebSocketRoute, frame: dict) -> None:
        self.frames.append(frame)
        if frame["type"] == "message":
            self.next_id += 1
            stored = {"id": self.next_id, "ts": "2026-11-24T10:01:00+00:00"}
            ws.send(json.dumps({"type": "ack", "client_id": frame["client_id"], **stored}))
            author = {
                "kind": "agent",
                "id": "1",
                "name": "owner",
                "avatar": {"initials": "O", "color": 3},
            }
            self.send(
                {
                    "type": "message",
                    "conversation": frame["conversation"],
                    "client_id": frame["client_id"],
                    "text": frame["text"],
                    "author": author,
                    **stored,
                }
            )
        elif frame["type"] == "close_conversation":
            summary = {"id": frame["conversation"], "site_id": self.site_id, "status": "closed"}
            self.send({"type": "conversation", "event": "closed", "conversation": summary})

    def sent(self, kind: str) -> list[dict]:
        return [frame for frame in self.frames if frame["type"] == kind]


def test_the_inbox_is_live_over_the_agent_socket(server, browser_page):
    page = browser_page.page
    socket = StubAgentSocket(site_id=server.site_id).install(page)
    log_in(page, server)
    expect(page.locator("#live-status")).to_have_attribute("data-state", "live")

    row = page.locator(f'.conversation-row[data-room="{ROOM}"]')
    expect(row.locator(".unread-count")).to_have_text("1")
    socket.visitor_says("Do you ship to Oslo?")
    expect(row.locator(".last-message")).to_have_text("Do you ship to Oslo?")
    expect(row.locator(".unread-count")).to_have_text("2")
    browser_page.screenshot("dashboard-inbox.png", full_page=True)

    row.locator("a").click()
    page.wait_for_url(re.compile(r".*/conversations/\d+/$"))
    expect(page.locator("#live-status")).to_have_attribute("data-state", "live")
    expect(page.locator("#visitor-details")).to_contain_text("https://gamma.test/tents")

    socket.send({"type": "typing", "conversation": ROOM, "author": GRETA, "state": True})
    expect(page.locator("#typing")).to_have_text("Greta is typing…")
    hostile = "<img src=x onerror=alert(1)> is that free?"
    socket.visitor_says(hostile)
    expect(page.locator("#messages li").last.locator(".text")).to_have_text(hostile)
    expect(page.locator("#messages li").last.locator(".avatar")).to_have_text("G")
    assert page.locator("#messages img").count() == 0  # text, never markup
    expect(page.locator("#typing")).to_be_hidden()

    page.fill("#id_text", "Yes, we ship to Norway.")
    page.keyboard.press("Enter")
    reply = page.locator("#messages li.author-agent").last
    expect(reply.locator(".text")).to_have_text("Yes, we ship to Norway.")
    expect(reply).not_to_have_class(re.compile("pending"))
    expect(reply).to_have_attribute("data-id", re.compile(r"^\d+$"))
    sent = socket.sent("message")
    assert [(f["conversation"], f["site_id"], f["text"]) for f in sent] == [
        (ROOM, server.site_id, "Yes, we ship to Norway.")
    ]
    assert socket.sent("typing")[0]["state"] is True
    assert any(f["conversation"] == ROOM and f["up_to"] > 0 for f in socket.sent("read"))

    page.click("#close-conversation")
    expect(page.locator("#conversation-status")).to_have_text("Closed")
    expect(page.locator("#reopen-form")).to_be_visible()
    assert socket.sent("close_conversation") == [
        {"type": "close_conversation", "conversation": ROOM, "site_id": server.site_id}
    ]
    browser_page.screenshot("dashboard-conversation.png", full_page=True)
    assert browser_page.csp_violations() == []
    assert browser_page.page_errors == []


def test_an_idle_inbox_pings_its_socket_every_25_seconds(server, browser_page):
    """The server closes an agent socket that sends nothing for 75 s (4408)."""
    page = browser_page.page
    page.clock.install()
    socket = StubAgentSocket(site_id=server.site_id).install(page)
    log_in(page, server)
    expect(page.locator("#live-status")).to_have_attribute("data-state", "live")
    page.clock.run_for("00:24")
    page.evaluate("0")  # a round trip: frames sent by now have reached the stand-in
    assert socket.sent("ping") == []
    page.clock.run_for("00:52")  # 76 s after the socket opened
    for _ in range(20):
        if len(socket.sent("ping")) == 3:
            break
        page.wait_for_timeout(50)
    assert socket.sent("ping") == [{"type": "ping"}] * 3
    expect(page.locator("#live-status")).to_have_attribute("data-state", "live")


def test_without_the_socket_replies_and_closing_post_the_forms(server, browser_page):
    page = browser_page.page
    StubAgentSocket(site_id=server.site_id, refusing=True).install(page)
    log_in(page, server)
    page.locator(f'.conversation-row[data-room="{ROOM}"] a').click()
    expect(page.locator("#live-status")).to_have_text("Reconnecting…")

    page.fill("#id_text", "Sent by a plain form post.")
    page.click("#reply-submit")
    page.wait_for_load_state()
    expect(page.locator("#messages li.author-agent .text").last).to_have_text(
        "Sent by a plain form post."
    )
    if page.locator("#close-form").is_visible():
        page.click("#close-conversation")
        expect(page.locator(".flash")).to_contain_text("Conversation closed.")
    page.click("#reopen-conversation")
    expect(page.locator(".flash")).to_contain_text("Conversation reopened.")
    expect(page.locator("#conversation-status")).to_have_text("Open")
    assert browser_page.page_errors == []
