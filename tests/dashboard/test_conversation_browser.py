"""The conversation page in chromium against a real daphne and its real agent socket: it opens at
the newest message, loads older ones above without moving what the agent reads, announces new
messages with a pill while the agent reads older ones, and shows every time in the agent's zone
(the server's rendering and the live one alike). Desktop width and 375 px; screenshots in
artifacts/."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from tests.support.browser import recorded_page
from tests.support.dashboard_server import dashboard_server, log_in
from widget.models import Conversation, Message, Visitor

pytestmark = [pytest.mark.e2e, pytest.mark.django_db]

ROOM = "cv_long_thread"
FIRST_AT = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)
MESSAGES = 120


def _seed(tenant, site, owner) -> dict:
    visitor = Visitor.objects.create(site_id=site.id, name="Hana")
    conversation = Conversation.objects.create(room=ROOM, site_id=site.id, visitor=visitor)
    stored = Message.objects.bulk_create(
        Message(
            conversation=conversation,
            author_kind="visitor" if n % 2 == 0 else "agent",
            author_id=str(visitor.id) if n % 2 == 0 else str(owner.pk),
            author_name="Hana" if n % 2 == 0 else "Owner",
            text=f"Message number {n}",
        )
        for n in range(MESSAGES)
    )
    for n, message in enumerate(stored):
        Message.objects.filter(pk=message.pk).update(created_at=FIRST_AT + timedelta(minutes=n))
    Conversation.objects.filter(pk=conversation.pk).update(
        last_message_at=FIRST_AT + timedelta(minutes=MESSAGES - 1)
    )
    return {"conversation_id": conversation.pk}


@pytest.fixture(scope="module")
def server(django_db_setup, django_db_blocker):
    with dashboard_server(django_db_blocker, slug="thread-e2e", seed=_seed) as running:
        yield running


def agent_page(browser, *, width=1024, height=720, time_zone="Asia/Tokyo"):
    """An agent's browser in a given time zone (the dashboard shows times in it)."""
    return recorded_page(browser, width=width, height=height, timezone_id=time_zone)


def _open(recorded, server):
    page = recorded.page
    log_in(page, server)
    page.goto(f"{server.tenant_url}/conversations/{server.seeded['conversation_id']}/")
    expect(page.locator("#live-status")).to_have_attribute("data-state", "live")
    return page


def _list_scroll(page) -> dict:
    return page.evaluate(
        "() => { const l = document.getElementById('messages');"
        " return {top: l.scrollTop, height: l.scrollHeight, client: l.clientHeight}; }"
    )


def test_the_thread_opens_at_the_newest_and_loads_older_above_in_place(server, module_browser):
    with agent_page(module_browser) as recorded:
        page = _open(recorded, server)
        items = page.locator("#messages li[data-id]")
        expect(items).to_have_count(50)
        newest = items.last
        expect(newest.locator(".text")).to_have_text(f"Message number {MESSAGES - 1}")
        expect(newest).to_be_in_viewport()
        scroll = _list_scroll(page)
        assert scroll["height"] - scroll["top"] - scroll["client"] < 2
        recorded.screenshot("conversation-opens-at-newest.png", full_page=True)

        # Reading the oldest shown message, the agent scrolls up: the older page arrives above
        # and the message they read stays where it was on screen.
        expect(items.first.locator(".text")).to_have_text("Message number 70")
        reading = page.locator(f'#messages li[data-id="{items.first.get_attribute("data-id")}"]')
        page.evaluate("document.getElementById('messages').scrollTop = 100")
        before = reading.bounding_box()["y"]
        page.evaluate("document.getElementById('messages').scrollTop = 0")
        expect(items).to_have_count(100)
        page.wait_for_function("() => document.getElementById('messages').scrollTop > 0")
        assert abs(reading.bounding_box()["y"] - (before + 100)) < 40
        expect(items.first.locator(".text")).to_have_text("Message number 20")

        page.click("#load-older")
        expect(items).to_have_count(MESSAGES)
        expect(page.locator("#older")).to_have_count(0)
        ids = [int(i) for i in items.evaluate_all("els => els.map(e => e.dataset.id)")]
        assert ids == sorted(ids)
        assert len(set(ids)) == MESSAGES
        recorded.assert_clean()


def test_times_are_in_the_agents_zone_on_the_server_and_live_alike(server, module_browser):
    with agent_page(module_browser, time_zone="Asia/Tokyo") as recorded:
        page = _open(recorded, server)
        newest_time = page.locator("#messages li[data-id]").last.locator("time")
        # 15:59 UTC on Nov 24 is 00:59 on Nov 25 in Tokyo.
        expect(newest_time).to_have_text("Nov 25, 00:59")
        expect(newest_time).to_have_attribute(
            "title", re.compile(r"November 25, 2026, 00:59 \(Asia/Tokyo\)")
        )
        cookies = {c["name"]: c["value"] for c in page.context.cookies()}
        assert cookies["parley_tz"] == "Asia/Tokyo"
        # The server renders the next page in the zone the browser reported.
        html = page.evaluate("async () => (await fetch(location.href)).text()")
        assert ">Nov 25, 00:59</time>" in html
        assert ">Nov 25, 00:10</time>" in html  # the oldest shown, 15:10 UTC

    with agent_page(module_browser, time_zone="America/New_York") as other:
        page = _open(other, server)
        expect(page.locator("#messages li[data-id]").last.locator("time")).to_have_text(
            "Nov 24, 10:59"
        )
        other.assert_clean()


def test_a_live_message_scrolls_into_view_at_the_bottom_else_a_pill(server, module_browser):
    with agent_page(module_browser) as reader, agent_page(module_browser) as writer:
        page = _open(reader, server)
        other = _open(writer, server)

        other.fill("#id_text", "First live reply")
        other.keyboard.press("Enter")
        arrived = page.locator("#messages li.message").last
        expect(arrived.locator(".text")).to_have_text("First live reply")
        expect(arrived).to_be_in_viewport()
        expect(page.locator("#new-messages")).to_be_hidden()
        # Live times follow the same rule: today, so only HH:MM.
        expect(arrived.locator("time")).to_have_text(re.compile(r"^\d\d:\d\d$"))

        page.evaluate("document.getElementById('messages').scrollTop = 200")
        top = _list_scroll(page)["top"]
        other.fill("#id_text", "Second live reply")
        other.keyboard.press("Enter")
        pill = page.locator("#new-messages")
        expect(pill).to_be_visible()
        expect(page.locator("#messages li.message").last.locator(".text")).to_have_text(
            "Second live reply"
        )
        assert abs(_list_scroll(page)["top"] - top) < 2  # the agent's place is kept
        reader.screenshot("conversation-new-messages-pill.png", full_page=True)
        pill.click()
        expect(pill).to_be_hidden()
        expect(page.locator("#messages li.message").last).to_be_in_viewport()
        reader.assert_clean()
        writer.assert_clean()


def test_the_conversation_page_at_375_px(server, module_browser):
    with agent_page(module_browser, width=375, height=740) as recorded:
        page = _open(recorded, server)
        expect(page.locator("#messages li[data-id]").last).to_be_in_viewport()
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        page.click("#assign-me")
        expect(page.locator(".flash")).to_contain_text("Assigned to")
        expect(page.locator("#assign-me-form")).to_be_hidden()
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        recorded.screenshot("conversation-375.png", full_page=True)
        recorded.assert_clean()


def test_a_private_note_is_styled_for_the_team_and_stays_a_note(server, module_browser):
    with agent_page(module_browser) as writer, agent_page(module_browser) as reader:
        page = _open(writer, server)
        other = _open(reader, server)
        page.check("#id_private")
        expect(page.locator("#reply-form")).to_have_class(re.compile("note-mode"))
        expect(page.locator("#note-hint")).to_be_visible()
        page.fill("#id_text", "Refunded on Monday, do not refund again")
        page.keyboard.press("Enter")
        mine = page.locator("#messages li.message").last
        expect(mine).to_have_class(re.compile(r"\bprivate\b"))
        expect(mine).to_have_attribute("data-id", re.compile(r"^\d+$"))
        expect(mine.locator(".note-tag")).to_have_text("Only your team sees this")
        theirs = other.locator("#messages li.message").last
        expect(theirs.locator(".text")).to_have_text("Refunded on Monday, do not refund again")
        expect(theirs).to_have_class(re.compile(r"\bprivate\b"))
        writer.screenshot("conversation-private-note.png", full_page=True)

        page.uncheck("#id_private")
        expect(page.locator("#note-hint")).to_be_hidden()
        page.reload()
        note = page.locator("#messages li.private")
        expect(note.last.locator(".text")).to_have_text("Refunded on Monday, do not refund again")
        writer.assert_clean()
        reader.assert_clean()


def test_a_note_without_the_socket_posts_the_form(server, module_browser):
    with agent_page(module_browser, width=375, height=740) as recorded:
        page = recorded.page
        page.route_web_socket(re.compile(r".*/ws/agent/$"), lambda ws: ws.close(code=1011))
        log_in(page, server)
        page.goto(f"{server.tenant_url}/conversations/{server.seeded['conversation_id']}/")
        page.check("#id_private")
        page.fill("#id_text", "A note posted by the form")
        page.click("#reply-submit")
        page.wait_for_load_state()
        last = page.locator("#messages li.message").last
        expect(last.locator(".text")).to_have_text("A note posted by the form")
        expect(last).to_have_class(re.compile(r"\bprivate\b"))
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        recorded.screenshot("conversation-note-375.png", full_page=True)
        assert recorded.csp_violations() == []


def test_a_flash_that_no_longer_holds_goes_when_the_conversation_changes(server, module_browser):
    with agent_page(module_browser) as watcher, agent_page(module_browser) as actor:
        page = _open(watcher, server)
        page.select_option("#assign-form select", "")
        page.click("#assign-submit")
        expect(page.locator(".flash")).to_contain_text("Assigned to nobody")
        expect(page.locator("#live-status")).to_have_attribute("data-state", "live")
        other = _open(actor, server)
        # Another agent closes it: the flash spoke of an open conversation and goes.
        other.click("#close-conversation")
        expect(page.locator("#conversation-status")).to_have_text("Closed")
        expect(page.locator(".flash")).to_have_count(0)
        expect(page.locator("#reopen-form")).to_be_visible()
        watcher.screenshot("conversation-stale-flash-cleared.png", full_page=True)
        other.click("#reopen-conversation")
        expect(page.locator("#conversation-status")).to_have_text("Open")
        watcher.assert_clean()
        actor.assert_clean()
