"""The inbox's list in chromium against a real daphne, real sockets and the test database.

Two tenants: one whose seeded conversations stay as they are (the views, paging, search, axe and
the screenshots read it), and one the live tests change: real visitors on the chat socket (the
session endpoint, then `ws/chat/`), a second member in a second browser, the bulk form. What is
asserted is what a member sees: the rows' names and order, their badges, chips and assignees,
the views' counts. Screenshots at 1280 and 375 px go to artifacts/.
"""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from accounts.models import Role, User
from tests.support.axe import AXE, readable, serious_violations
from tests.support.browser import RecordedPage, recorded_page
from tests.support.dashboard_server import dashboard_server, log_in
from tests.support.factories import visitor_conversation
from tests.support.widget_visitor import WidgetVisitor
from widget.models import Conversation
from widget.services.labels import label_create

pytestmark = [pytest.mark.e2e, pytest.mark.django_db]

ORIGIN = "https://shop.test"
PASSWORD = "a-long-enough-passphrase-42"
FILLERS = 55  # more than a page of 50
WIDTHS = {"1280": 1280, "375": 375}
# How long a live change may take to show: the page asks the server for the counts at most every
# 1.5 s and for a new row's page after 0.7 s, and a busy 2-core machine answers slowly.
LIVE_MS = 20_000


def _member(email: str, name: str) -> User:
    return User.objects.create_user(
        email=email, password=PASSWORD, role=Role.AGENT, display_name=name
    )


def _chat(tenant, site, name: str, *texts, read=False, agent="Bea Brown", **state) -> Conversation:
    """A conversation of `name` with `texts` ((author kind, text), oldest first); read by the
    agents up to its last message with `read`; `state` (status, assignee, snoozed_until, ...)
    set on it after."""
    conversation = visitor_conversation(
        tenant,
        site_id=site.id,
        room=f"cv_{uuid.uuid4().hex[:16]}",
        texts=texts,
        name=name,
        agent_name=agent,
    )
    if read:
        state["agent_read_up_to"] = conversation.messages.order_by("-id").first().id
    labels = state.pop("labels", ())
    Conversation.objects.filter(pk=conversation.pk).update(**state)
    conversation.labels.add(*labels)
    return conversation


def _seed_views(tenant, site, owner) -> dict:
    User.objects.filter(pk=owner.pk).update(display_name="Omar Haddad")
    bea = _member("bea@list-e2e.test", "Bea Brown")
    billing = label_create(name="Billing", color="#b45309")
    label_create(name="Bug", color="#7c3aed")
    long_ago = timezone.now() - timedelta(days=3)
    for n in range(1, FILLERS + 1):
        filler = _chat(
            tenant, site, f"Archive {n:02}", ("visitor", f"Old question number {n}"), read=True,
            assignee=bea,
        )  # fmt: skip
        Conversation.objects.filter(pk=filler.pk).update(
            last_message_at=long_ago + timedelta(minutes=n)
        )
    _chat(
        tenant, site, "Cleo Park", ("visitor", "Is the blue tent back in stock?"),
        ("agent", "Yes, since Monday."), read=True, status=Conversation.Status.CLOSED,
    )  # fmt: skip
    later = label_create(name="Later", color="#0f766e")
    _chat(
        tenant, site, "Sami Okafor", ("visitor", "The checkout page shows an error."),
        snoozed_until=timezone.now() + timedelta(days=2), labels=[later],
    )  # fmt: skip
    _chat(
        tenant, site, "Lena Voss", ("visitor", "Can I get an invoice for March?"),
        ("agent", "Sent to your email."), read=True, assignee=bea, labels=[billing],
    )  # fmt: skip
    _chat(tenant, site, "Uri Katz", ("visitor", "Do you ship to Oslo?"))
    _chat(
        tenant, site, "Mona Reyes", ("visitor", "I was charged twice for order 4411."),
        ("visitor", "Can I get a refund for the second charge, please? The first one was right."),
        assignee=owner, labels=[billing],
    )  # fmt: skip
    return {"billing": billing.pk}


def _seed_live(tenant, site, owner) -> dict:
    _member("bea@live-e2e.test", "Bea Brown")
    label_create(name="Billing", color="#b45309")
    for name in ("Bulk Ana", "Bulk Ben", "Bulk Cai"):
        _chat(tenant, site, name, ("visitor", f"{name} needs help"))
    _chat(tenant, site, "Kai Lund", ("visitor", "Where is my parcel?"), read=True)
    return {}


def _served(django_db_blocker, slug: str, name: str, seed) -> Iterator:
    with dashboard_server(
        django_db_blocker, slug=slug, name=name, origins=(ORIGIN,), seed=seed
    ) as running:
        yield running


@pytest.fixture(scope="module")
def views_server(django_db_setup, django_db_blocker):
    """The tenant whose conversations the tests only read."""
    yield from _served(django_db_blocker, "list-e2e", "List Views", _seed_views)


@pytest.fixture(scope="module")
def changing_server(django_db_setup, django_db_blocker):
    """The tenant whose conversations the live tests write to, assign and close."""
    yield from _served(django_db_blocker, "live-e2e", "Live List", _seed_live)


# --- What a member sees ---------------------------------------------------------------------


def names(page: Page) -> list[str]:
    return page.locator("#conversation-list .conversation-row .who").all_inner_texts()


def row(page: Page, name: str):
    return page.locator("#conversation-list .conversation-row").filter(
        has=page.locator(".who", has_text=name)
    )


def view_count(page: Page, name: str):
    """The unread count beside a view's (or a label's) name in the views' navigation."""
    return page.locator("#inbox-views a").filter(has_text=name).locator(".view-count")


def expect_count(page: Page, name: str, count: int) -> None:
    if count:
        expect(view_count(page, name)).to_have_text(str(count), timeout=LIVE_MS)
    else:
        expect(view_count(page, name)).to_be_hidden(timeout=LIVE_MS)


def open_view(page: Page, name: str) -> None:
    page.locator("#inbox-views a").filter(has_text=name).click()
    expect(page.locator("#inbox-views a[aria-current=page]")).to_contain_text(name)
    expect(page.locator("#live-status")).to_have_attribute("data-state", "live")


def no_sideways_scroll(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    viewport = page.viewport_size["width"]
    assert width <= viewport, f"the page scrolls sideways at {viewport} px ({width} px)"


@contextmanager
def member_page(browser, server, *, width: int = 1280, email: str = "") -> Iterator[RecordedPage]:
    """A member's browser signed in on the live inbox (axe injected); the owner without
    `email`."""
    with recorded_page(browser, width=width, height=900) as recorded:
        recorded.page.add_init_script(path=str(AXE))
        log_in(recorded.page, server, email=email, password=PASSWORD if email else "")
        expect(recorded.page.locator("#live-status")).to_have_attribute("data-state", "live")
        yield recorded


def axe_clean(page: Page, what: str) -> None:
    found = serious_violations(page)
    assert found == [], f"{what}:\n{readable(found)}"


# --- The views, paging, search (the seeded tenant, unchanged) --------------------------------

VIEWS = {
    "Mine": (["Mona Reyes"], 1),
    "Unassigned": (["Uri Katz"], 1),
    "Closed": (["Cleo Park"], 0),
    "Snoozed": (["Sami Okafor"], 1),
    "Billing": (["Mona Reyes", "Lena Voss"], 1),
    "Later": ([], 0),  # its one conversation is snoozed: out of the open views
}


@pytest.mark.parametrize("width", WIDTHS.values(), ids=WIDTHS.keys())
def test_each_view_shows_its_conversations_and_counts(views_server, module_browser, width):
    with member_page(module_browser, views_server, width=width) as recorded:
        page = recorded.page

        # All open, the default: newest activity first, 50 to a page.
        assert names(page)[:3] == ["Mona Reyes", "Uri Katz", "Lena Voss"]
        assert len(names(page)) == 50
        for view, (_, count) in VIEWS.items():
            expect_count(page, view, count)
        expect_count(page, "All open", 2)
        mona = row(page, "Mona Reyes")
        expect(mona.locator(".unread-count")).to_have_text("2")
        expect(mona.locator(".chip")).to_have_text(["Billing"])
        expect(mona.locator(".assignee")).to_have_text("Omar Haddad")
        expect(mona.locator(".last-message")).to_contain_text("Can I get a refund")
        expect(row(page, "Lena Voss").locator(".last-message")).to_have_text(
            "Bea Brown: Sent to your email."
        )
        expect(row(page, "Lena Voss").locator(".unread-count")).to_be_hidden()
        expect(row(page, "Uri Katz").locator(".assignee")).to_have_text("Unassigned")
        no_sideways_scroll(page)
        axe_clean(page, f"All open at {width} px")

        # The bulk bar, as a member sees it with two rows chosen.
        row(page, "Mona Reyes").locator(".row-select").check()
        row(page, "Lena Voss").locator(".row-select").check()
        expect(page.locator("#selected-count")).to_have_text("2 selected")
        expect(page.locator("#bulk-apply")).to_be_visible()
        no_sideways_scroll(page)
        recorded.screenshot(f"inbox-list-{width}.png", full_page=True)
        recorded.screenshot(f"inbox-list-top-{width}.png")

        for view, (rows, count) in VIEWS.items():
            open_view(page, view)
            assert names(page) == rows, view
            expect_count(page, view, count)
            if not rows:
                expect(page.locator("#inbox-empty")).to_be_visible()
            no_sideways_scroll(page)
            axe_clean(page, f"{view} at {width} px")
        open_view(page, "Snoozed")
        sami = row(page, "Sami Okafor")
        expect(sami.locator(".snoozed")).to_have_text("Snoozed")
        expect(sami.locator(".chip")).to_have_text(["Later"])
        expect(sami.locator(".unread-count")).to_have_text("1")
        recorded.screenshot(f"inbox-snoozed-{width}.png", full_page=True)
        recorded.assert_clean()


def test_paging_reaches_the_older_conversations_and_back(views_server, module_browser):
    with member_page(module_browser, views_server) as recorded:
        page = recorded.page
        first = names(page)
        newest_fillers = [f"Archive {n:02}" for n in range(FILLERS, 0, -1)]
        assert first == ["Mona Reyes", "Uri Katz", "Lena Voss", *newest_fillers[:47]]

        page.click("#older-page")
        expect(page.locator("#newest-page")).to_be_visible()
        assert names(page) == newest_fillers[47:]
        expect(page.locator("#older-page")).to_have_count(0)  # the last page
        axe_clean(page, "the older page")

        page.click("#newest-page")
        expect(page.locator("#older-page")).to_be_visible()
        assert names(page) == first
        recorded.assert_clean()


def test_search_highlights_the_matches(views_server, module_browser):
    with member_page(module_browser, views_server) as recorded:
        page = recorded.page
        page.fill("#inbox-q", "refund")
        page.click("#inbox-search button[type=submit]")
        expect(page.locator("#inbox-q")).to_have_value("refund")
        assert names(page) == ["Mona Reyes"]
        found = row(page, "Mona Reyes").locator(".last-message")
        expect(found.locator("mark")).to_have_text(["refund"])
        expect(found).to_have_text("refund for the second charge, please? The first")
        axe_clean(page, "search results")
        recorded.screenshot("inbox-search-1280.png")

        page.fill("#inbox-q", "parachute")
        page.click("#inbox-search button[type=submit]")
        expect(page.locator("#inbox-empty")).to_have_text("No conversation matches “parachute”.")
        assert names(page) == []
        page.click("#inbox-search >> text=Clear")
        expect(page.locator("#inbox-q")).to_have_value("")
        assert len(names(page)) == 50
        recorded.assert_clean()


# --- Live: visitors writing, the agent reading, another agent, bulk actions -----------------


def _count_of(page: Page, view: str) -> int:
    count = view_count(page, view)
    return int(count.get_attribute("data-count") or 0)


def test_a_visitor_writing_and_the_agent_reading_change_the_counts_live(
    changing_server, module_browser, django_db_blocker
):
    with member_page(module_browser, changing_server) as recorded:
        page = recorded.page
        open_before, unassigned_before = _count_of(page, "All open"), _count_of(page, "Unassigned")
        assert names(page)[0] != "Nora Field"

        with django_db_blocker.unblock():
            nora = WidgetVisitor(changing_server, "Nora Field", origin=ORIGIN)
        try:
            nora.say("Hi, is my order on its way?")
            # A new conversation appears live, at the top, unread.
            expect(page.locator("#conversation-list .who").first).to_have_text(
                "Nora Field", timeout=LIVE_MS
            )
            expect(row(page, "Nora Field").locator(".last-message")).to_have_text(
                "Hi, is my order on its way?"
            )
            expect(row(page, "Nora Field").locator(".unread-count")).to_have_text("1")
            expect_count(page, "All open", open_before + 1)
            expect_count(page, "Unassigned", unassigned_before + 1)

            nora.say("It was order 5120.")
            expect(row(page, "Nora Field").locator(".last-message")).to_have_text(
                "It was order 5120."
            )
            expect(row(page, "Nora Field").locator(".unread-count")).to_have_text("2")
            recorded.screenshot("inbox-live-unread-1280.png")

            # The same member reads it in another tab: this tab's row and counts follow.
            with member_page(module_browser, changing_server) as reader:
                row(reader.page, "Nora Field").locator("a").click()
                expect(reader.page.locator("#messages")).to_contain_text("It was order 5120.")
                expect(row(page, "Nora Field").locator(".unread-count")).to_be_hidden(
                    timeout=LIVE_MS
                )
                expect_count(page, "All open", open_before)
                expect_count(page, "Unassigned", unassigned_before)
                reader.assert_clean()

            # Written to again, it is unread again, and back at the top.
            page.locator("#inbox-views a").filter(has_text="All open").click()
            expect(page.locator("#live-status")).to_have_attribute("data-state", "live")
            row(page, "Kai Lund").locator(".row-select").check()  # a page that changes under it
            nora.say("Any news?")
            expect(row(page, "Nora Field").locator(".unread-count")).to_have_text("1")
            expect(page.locator("#conversation-list .who").first).to_have_text(
                "Nora Field", timeout=LIVE_MS
            )
            expect_count(page, "All open", open_before + 1)
            expect(row(page, "Kai Lund").locator(".row-select")).to_be_checked()
        finally:
            nora.close()
        recorded.assert_clean()


def test_a_conversation_another_agent_closes_leaves_the_open_view_live(
    changing_server, module_browser
):
    with member_page(module_browser, changing_server) as recorded:
        page = recorded.page
        expect(row(page, "Kai Lund")).to_have_count(1)
        others = [name for name in names(page) if name != "Kai Lund"]

        with member_page(module_browser, changing_server, email="bea@live-e2e.test") as bea:
            row(bea.page, "Kai Lund").locator("a").click()
            expect(bea.page.locator("#live-status")).to_have_attribute("data-state", "live")
            bea.page.click("#close-conversation")
            expect(bea.page.locator("#conversation-status")).to_have_text("Closed")
            bea.assert_clean()

        expect(row(page, "Kai Lund")).to_have_count(0, timeout=LIVE_MS)
        assert names(page) == others
        open_view(page, "Closed")
        assert "Kai Lund" in names(page)
        recorded.assert_clean()


def test_bulk_assign_label_and_close_from_the_checkboxes(changing_server, module_browser):
    with member_page(module_browser, changing_server, width=375) as recorded:
        page = recorded.page
        open_view(page, "Unassigned")
        expect(page.locator("#bulk-action")).to_be_hidden()  # nothing chosen yet

        row(page, "Bulk Ana").locator(".row-select").check()
        row(page, "Bulk Ben").locator(".row-select").check()
        expect(page.locator("#selected-count")).to_have_text("2 selected")
        page.select_option("#bulk-action", "assign")
        page.select_option("#bulk-assignee", label="Bea Brown")
        expect(page.locator("#bulk-label")).to_be_hidden()
        no_sideways_scroll(page)
        recorded.screenshot("inbox-bulk-bar-375.png")
        page.click("#bulk-apply")
        expect(page.locator(".flash")).to_have_text("2 conversations assigned to Bea Brown.")
        remaining = names(page)
        assert not {"Bulk Ana", "Bulk Ben"} & set(remaining)
        assert "Bulk Cai" in remaining

        row(page, "Bulk Cai").locator(".row-select").check()
        page.select_option("#bulk-action", "label")
        expect(page.locator("#bulk-assignee")).to_be_hidden()
        page.select_option("#bulk-label", label="Billing")
        page.click("#bulk-apply")
        expect(page.locator(".flash")).to_have_text("1 conversation labelled Billing.")
        expect(row(page, "Bulk Cai").locator(".chip")).to_have_text(["Billing"])

        open_view(page, "All open")
        expect(row(page, "Bulk Ana").locator(".assignee")).to_have_text("Bea Brown")
        expect(row(page, "Bulk Ben").locator(".assignee")).to_have_text("Bea Brown")
        row(page, "Bulk Ana").locator(".row-select").check()
        row(page, "Bulk Cai").locator(".row-select").check()
        page.select_option("#bulk-action", "close")
        page.click("#bulk-apply")
        expect(page.locator(".flash")).to_have_text("2 conversations closed.")
        assert not {"Bulk Ana", "Bulk Cai"} & set(names(page))
        assert "Bulk Ben" in names(page)
        open_view(page, "Closed")
        assert {"Bulk Ana", "Bulk Cai"} <= set(names(page))
        no_sideways_scroll(page)
        recorded.assert_clean()
