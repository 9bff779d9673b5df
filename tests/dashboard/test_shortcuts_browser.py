"""The inbox's keyboard shortcuts in chromium against a real daphne and its agent socket.

On the list, j and k move a visible focus between the rows, Enter and o open the row, x selects
it for the bulk actions; / focuses the search (from a conversation too) and g then i goes to
the inbox. In a conversation, r focuses the reply box and Esc leaves it, n switches to a note
and back, e closes and reopens, a assigns to me and u unassigns. None fires while typing in a
field or with Ctrl, Alt or Meta held. ? (or the link at the page's foot) opens their list in a
dialog that passes axe and gives the focus back when it closes. 1280 px and 375 px; screenshots
in artifacts/."""

import re

import pytest
from playwright.sync_api import expect

from tests.support.axe import AXE, readable, serious_violations
from tests.support.browser import recorded_page
from tests.support.dashboard_server import dashboard_server, log_in
from tests.support.factories import visitor_conversation
from widget.models import Conversation

pytestmark = [pytest.mark.e2e, pytest.mark.django_db]

# Newest last: the inbox lists them newest first.
VISITORS = (("Astrid", "cv_keys_a"), ("Bruno", "cv_keys_b"), ("Chiara", "cv_keys_c"))
LISTED = ["Chiara", "Bruno", "Astrid"]
WIDTHS = (1280, 375)


def _seed(tenant, site, owner) -> dict:
    ids = {}
    for name, room in VISITORS:
        texts = (("visitor", f"Hello from {name}"),)
        conversation = visitor_conversation(
            tenant, site_id=site.id, room=room, texts=texts, name=name
        )
        ids[name] = conversation.pk
    return ids


@pytest.fixture(scope="module")
def server(django_db_setup, django_db_blocker):
    with dashboard_server(django_db_blocker, slug="keys-e2e", name="Keys", seed=_seed) as up:
        yield up


def _focused(page) -> dict:
    return page.evaluate(
        """() => {
          const el = document.activeElement;
          const row = el.closest('.conversation-row');
          return {tag: el.tagName, id: el.id, visible: el.matches(':focus-visible'),
                  who: row ? row.querySelector('.who').textContent.trim() : null,
                  marked: row ? row.classList.contains('keyboard-current') : false};
        }"""
    )


def _blur(page) -> None:
    page.evaluate("document.activeElement.blur()")


def _inbox(recorded, server):
    page = recorded.page
    log_in(page, server)
    expect(page.locator("#live-status")).to_have_attribute("data-state", "live")
    expect(page.locator(".conversation-row .who")).to_have_text(LISTED)
    return page


def _conversation(page, server, name: str):
    page.goto(f"{server.tenant_url}/conversations/{server.seeded[name]}/")
    expect(page.locator("#live-status")).to_have_attribute("data-state", "live")


@pytest.mark.parametrize("width", WIDTHS)
def test_j_and_k_move_between_rows_x_selects_enter_and_o_open(server, module_browser, width):
    with recorded_page(module_browser, width=width, height=800) as recorded:
        page = _inbox(recorded, server)
        page.keyboard.press("j")
        assert _focused(page) == {
            "tag": "A", "id": "", "visible": True, "who": "Chiara", "marked": True
        }  # fmt: skip
        page.keyboard.press("j")
        page.keyboard.press("j")
        assert _focused(page)["who"] == "Astrid"
        page.keyboard.press("j")  # the last row stays
        assert _focused(page)["who"] == "Astrid"
        page.keyboard.press("k")
        focused = _focused(page)
        assert (focused["who"], focused["visible"], focused["marked"]) == ("Bruno", True, True)
        expect(page.locator(".conversation-row.keyboard-current")).to_have_count(1)
        recorded.screenshot(f"shortcuts-list-{width}.png")

        # x selects the row for the bulk actions, and again unselects it.
        bruno = page.locator(".conversation-row", has_text="Bruno").locator(".row-select")
        page.keyboard.press("x")
        expect(bruno).to_be_checked()
        expect(page.locator("#selected-count")).to_have_text("1 selected")
        expect(page.locator("#bulk-bar")).to_have_attribute("data-active", "true")
        page.keyboard.press("x")
        expect(bruno).not_to_be_checked()
        expect(page.locator("#bulk-bar")).to_have_attribute("data-active", "false")

        # Not with Ctrl, Alt or Meta held.
        for held in ("Control", "Alt", "Meta"):
            page.keyboard.press(f"{held}+x")
            page.keyboard.press(f"{held}+j")
        expect(bruno).not_to_be_checked()
        assert _focused(page)["who"] == "Bruno"

        # o opens the row the focus is on.
        page.keyboard.press("o")
        page.wait_for_url(f"{server.tenant_url}/conversations/{server.seeded['Bruno']}/")
        page.goto(f"{server.tenant_url}/")
        expect(page.locator("#live-status")).to_have_attribute("data-state", "live")

        # Enter opens the row moved to, even once the focus has left it for the page.
        page.keyboard.press("j")
        assert _focused(page)["who"] == "Chiara"
        _blur(page)
        page.keyboard.press("Enter")
        page.wait_for_url(f"{server.tenant_url}/conversations/{server.seeded['Chiara']}/")
        recorded.assert_clean()


def test_no_shortcut_fires_while_typing_in_the_search(server, module_browser):
    with recorded_page(module_browser, width=1280, height=800) as recorded:
        page = _inbox(recorded, server)
        # / focuses the search; the letters typed there are text, not shortcuts.
        page.keyboard.press("/")
        assert _focused(page)["id"] == "inbox-q"
        page.keyboard.type("jkxo/g?")
        expect(page.locator("#inbox-q")).to_have_value("jkxo/g?")
        assert _focused(page)["id"] == "inbox-q"
        expect(page.locator("#shortcuts")).not_to_be_visible()
        expect(page.locator(".row-select:checked")).to_have_count(0)
        assert page.url == f"{server.tenant_url}/"
        # Nor in a select (the bulk bar's, shown once a row is selected).
        _blur(page)
        page.keyboard.press("j")
        page.keyboard.press("x")
        chiara = page.locator(".conversation-row", has_text="Chiara").locator(".row-select")
        expect(chiara).to_be_checked()
        page.focus("#bulk-action")
        page.keyboard.press("k")
        page.keyboard.press("x")
        assert _focused(page)["id"] == "bulk-action"
        expect(chiara).to_be_checked()
        recorded.assert_clean()


def test_g_then_i_goes_to_the_inbox_and_slash_to_its_search(server, module_browser):
    with recorded_page(module_browser, width=1280, height=800) as recorded:
        page = recorded.page
        log_in(page, server)
        _conversation(page, server, "Astrid")
        page.keyboard.press("g")
        page.keyboard.press("i")
        page.wait_for_url(f"{server.tenant_url}/")
        # i alone, or after another key than g, does nothing.
        _conversation(page, server, "Astrid")
        page.evaluate("window.stillHere = true")
        page.keyboard.press("i")
        page.keyboard.press("g")
        page.keyboard.press("q")
        page.keyboard.press("i")
        # The keys were heard (? still answers) and the page stayed: no navigation began.
        page.keyboard.press("?")
        expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_be_visible()
        page.keyboard.press("Escape")
        assert page.evaluate("window.stillHere") is True
        assert page.url.endswith(f"/conversations/{server.seeded['Astrid']}/")
        # / on a conversation: the inbox, its search box focused.
        page.keyboard.press("/")
        expect(page.locator("#inbox-q")).to_be_focused()
        assert page.url == f"{server.tenant_url}/"  # the fragment that asked for it is gone
        recorded.assert_clean()


@pytest.mark.parametrize("width", WIDTHS)
def test_reply_note_close_reopen_assign_and_unassign(server, module_browser, width):
    name = "Astrid" if width == 1280 else "Bruno"  # open and unassigned, as seeded
    with recorded_page(module_browser, width=width, height=800) as recorded:
        page = recorded.page
        log_in(page, server)
        _conversation(page, server, name)
        reply = page.locator("#reply-form textarea")
        status = page.locator("#conversation-status")
        assignee = page.locator("#assign-form select")

        # r focuses the reply box; there, the shortcuts' letters are text; Esc leaves it.
        page.keyboard.press("r")
        expect(reply).to_be_focused()
        page.keyboard.type("Jeans? Run, use a knot.")
        expect(reply).to_have_value("Jeans? Run, use a knot.")
        expect(page.locator("#shortcuts")).not_to_be_visible()
        expect(status).to_have_text("Open")
        expect(assignee).to_have_value("")
        reply.fill("")
        page.keyboard.press("Escape")
        expect(reply).not_to_be_focused()
        expect(page.locator("#messages")).to_be_focused()

        # n switches to a private note (and into the box), and back.
        page.keyboard.press("n")
        expect(page.locator("#reply-form")).to_have_class(re.compile(r"\bnote-mode\b"))
        expect(page.locator("#reply-form input[name=private]")).to_be_checked()
        expect(page.locator("#note-hint")).to_be_visible()
        expect(reply).to_be_focused()
        page.keyboard.press("Escape")
        page.keyboard.press("n")
        expect(page.locator("#reply-form input[name=private]")).not_to_be_checked()
        expect(page.locator("#note-hint")).to_be_hidden()
        page.keyboard.press("Escape")

        # e closes it (over the socket) and, again, reopens it.
        page.keyboard.press("e")
        expect(status).to_have_text("Closed")
        expect(page.locator("#reopen-form")).to_be_visible()
        page.keyboard.press("e")  # the reopen form posts: the page reloads
        expect(page.locator("#flash")).to_be_visible()
        expect(status).to_have_text("Open")
        expect(page.locator("#close-form")).to_be_visible()
        live = page.locator("#live-status")
        expect(live).to_have_attribute("data-state", "live")

        # a assigns it to me, u to nobody.
        page.keyboard.press("a")
        expect(page.locator("#flash")).to_contain_text("Assigned to")
        expect(assignee).to_have_value(str(server.owner.pk))
        expect(page.locator("#assign-me-form")).to_be_hidden()
        expect(live).to_have_attribute("data-state", "live")
        page.keyboard.press("u")
        expect(page.locator("#flash")).to_have_text("Assigned to nobody.")
        expect(assignee).to_have_value("")
        expect(page.locator("#assign-me-form")).to_be_visible()
        recorded.assert_clean()
    with server.in_tenant():
        stored = Conversation.objects.get(pk=server.seeded[name])
    assert (stored.status, stored.assignee_id) == ("open", None)


@pytest.mark.parametrize("width", WIDTHS)
def test_question_mark_lists_the_shortcuts_in_a_dialog(server, module_browser, width):
    with recorded_page(module_browser, width=width, height=800) as recorded:
        page = recorded.page
        page.add_init_script(path=str(AXE))
        page = _inbox(recorded, server)
        dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
        expect(dialog).to_be_hidden()

        # ? from a row: the dialog, its heading and tables; Esc gives the focus back to the row.
        page.keyboard.press("j")
        page.keyboard.press("?")
        expect(dialog).to_be_visible()
        expect(dialog.get_by_role("heading", name="Keyboard shortcuts")).to_be_visible()
        expect(dialog.get_by_role("table")).to_have_count(3)
        expect(dialog.locator("caption")).to_have_text(
            ["Anywhere", "Conversation list", "Conversation"]
        )
        focus_inside = "document.getElementById('shortcuts').contains(document.activeElement)"
        assert page.evaluate(focus_inside)
        # Under the dialog, the page's shortcuts rest.
        page.keyboard.press("j")
        page.keyboard.press("x")
        expect(page.locator(".row-select:checked")).to_have_count(0)
        recorded.screenshot(f"shortcuts-dialog-{width}.png")
        violations = serious_violations(page)
        assert not violations, readable(violations)
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        page.keyboard.press("Escape")
        expect(dialog).to_be_hidden()
        assert _focused(page)["who"] == "Chiara"

        # The link at the foot opens it too; its close button gives the focus back to the link.
        link = page.get_by_role("button", name="Keyboard shortcuts (?)")
        link.click()
        expect(dialog).to_be_visible()
        dialog.get_by_role("button", name="Close").click()
        expect(dialog).to_be_hidden()
        expect(link).to_be_focused()
        # A click on the backdrop closes it as well.
        link.click()
        expect(dialog).to_be_visible()
        page.mouse.click(4, 4)
        expect(dialog).to_be_hidden()
        expect(link).to_be_focused()
        recorded.assert_clean()


def test_the_dialog_on_a_conversation(server, module_browser):
    with recorded_page(module_browser, width=1280, height=800) as recorded:
        page = recorded.page
        log_in(page, server)
        _conversation(page, server, "Chiara")
        page.keyboard.press("r")
        page.keyboard.press("Escape")
        page.keyboard.press("?")
        dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
        expect(dialog).to_be_visible()
        # The conversation's keys rest under it: e does not close the conversation.
        page.keyboard.press("e")
        expect(page.locator("#conversation-status")).to_have_text("Open")
        recorded.screenshot("shortcuts-dialog-conversation-1280.png")
        page.keyboard.press("Escape")
        expect(dialog).to_be_hidden()
        expect(page.locator("#messages")).to_be_focused()
        recorded.assert_clean()
