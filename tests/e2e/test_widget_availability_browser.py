"""The widget's status line and forms in chromium against the real backend (a daphne on the test
database, the customer's page on a second origin): online with the usual reply time, away, out of
hours with the offline form (a conversation in the inbox), the launcher hidden out of hours where
the site says so, and the pre-chat form with custom questions. Each state is photographed at 1280
and 375 px (artifacts/widget-*-<width>.png)."""

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django_tenants.utils import schema_context
from playwright.sync_api import Page, expect

from accounts.models import User
from tenants.services import site_update
from tests.e2e.test_widget_live import SITE_NAME, customer_page
from tests.support.browser import recorded_page
from tests.support.factories import make_agent, make_site
from tests.support.protocol_client import AgentClient, ClientThread
from widget.models import Conversation, Message, Visitor

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

WIDTHS = (1280, 375)
EVERY_DAY = {
    day: [{"start": "09:00", "end": "17:00"}]
    for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
}


@pytest.fixture
def shop(parley, tenant_a, customer_site):
    """A site of tenant_a with `settings`, and the customer's page embedding it."""

    def make(**settings):
        pages: dict[str, str] = {}
        origin = customer_site(pages, {})
        site = make_site(tenant_a, name=SITE_NAME, origin=origin)
        if settings:
            site_update(site=site.site, **settings)
        pages["/"] = customer_page(parley.platform_url, site.key)
        return site, f"{origin}/"

    return make


def closed_for_two_days() -> dict:
    """Hours every day 9 to 17 in Paris, but today and tomorrow (Paris time) closed."""
    today = datetime.now(ZoneInfo("Europe/Paris")).date()
    return {
        "hours_enabled": True,
        "time_zone": "Europe/Paris",
        "weekly_hours": EVERY_DAY,
        "closed_dates": [today.isoformat(), (today + timedelta(days=1)).isoformat()],
        "away_message": "We are out until the day after tomorrow.",
    }


def answered_conversations(site, minutes: list[int]) -> None:
    """Earlier conversations answered after `minutes`: the tenant's measured reply time."""
    with schema_context(site.tenant.schema_name):
        for index, wait in enumerate(minutes):
            asked = datetime.now(UTC) - timedelta(hours=index + 1)
            visitor = Visitor.objects.create(site_id=site.site.id, name=f"Earlier {index}")
            room = Conversation.objects.create(
                site_id=site.site.id, room=f"cv_earlier{index}", visitor=visitor,
                last_message_at=asked,
            )  # fmt: skip
            for kind, at in (("visitor", asked), ("agent", asked + timedelta(minutes=wait))):
                message = Message.objects.create(conversation=room, author_kind=kind, text="x")
                Message.objects.filter(pk=message.pk).update(created_at=at)


def open_widget(page: Page, url: str):
    page.goto(url)
    page.get_by_role("button", name=re.compile(r"^Open chat")).click()
    panel = page.get_by_role("dialog", name=SITE_NAME)
    expect(panel).to_be_visible()
    return panel


def photograph(browser, url: str, name: str, check, **context) -> None:
    """Open the widget at each width, wait for `check(panel)`, and keep a screenshot."""
    for width in WIDTHS:
        with recorded_page(browser, width=width, height=760, **context) as visitor:
            panel = open_widget(visitor.page, url)
            check(panel)
            visitor.screenshot(f"widget-{name}-{width}.png")
            visitor.assert_clean()


def test_online_with_the_usual_reply_time_then_away_live(parley, tenant_a, shop, module_browser):
    site, url = shop()
    answered_conversations(site, [2, 3, 20])
    member = make_agent(tenant_a)
    agent = AgentClient("agent", member, port=parley.port)
    with ClientThread(agent) as thread:
        thread.run(agent.wait_ready())

        def online(panel):
            line = panel.get_by_role("status").filter(has_text="Online")
            expect(line).to_have_text("Online · we usually reply in 3 min")

        photograph(module_browser, url, "online", online)

        # The agent leaves: a visitor with the widget open is told at once.
        with recorded_page(module_browser, width=1280) as visitor:
            panel = open_widget(visitor.page, url)
            online(panel)
            thread.run(agent.stop())
            expect(panel.get_by_text("Away · we will answer by email")).to_be_visible()
            visitor.assert_clean()


def test_an_agent_switched_away_makes_the_widget_say_away(parley, tenant_a, shop, module_browser):
    _site, url = shop(away_message="We answer every message within a day.")
    member = make_agent(tenant_a)
    with schema_context(tenant_a.schema_name):
        User.objects.filter(pk=member.user_id).update(away=True)
    agent = AgentClient("agent", member, port=parley.port)
    with ClientThread(agent) as thread:
        thread.run(agent.wait_ready())

        def away(panel):
            expect(panel.get_by_text("Away · we will answer by email")).to_be_visible()
            expect(panel.get_by_text("We answer every message within a day.")).to_be_visible()
            expect(panel.get_by_label("Your message")).to_be_visible()  # chat as usual

        photograph(module_browser, url, "away", away)


def test_out_of_hours_the_offline_form_leaves_a_message_in_the_inbox(
    parley, tenant_a, shop, module_browser
):
    _site, url = shop(**closed_for_two_days())
    opens = datetime.now(ZoneInfo("Europe/Paris")).date() + timedelta(days=2)
    opening = datetime(opens.year, opens.month, opens.day, 9, tzinfo=ZoneInfo("Europe/Paris"))
    in_new_york = opening.astimezone(ZoneInfo("America/New_York")).strftime("%-I:%M %p")

    def offline(panel):
        expect(panel.get_by_role("status").filter(has_text="Closed")).to_contain_text(
            f"Closed · we open {opening.astimezone(ZoneInfo('America/New_York')):%A} {in_new_york}"
        )
        expect(panel.get_by_text("Leave us a message and we will answer by email.")).to_be_visible()
        expect(panel.get_by_label("Your message")).to_be_hidden()

    photograph(module_browser, url, "offline-form", offline, timezone_id="America/New_York")

    with recorded_page(module_browser, width=375, timezone_id="America/New_York") as visitor:
        page = visitor.page
        panel = open_widget(page, url)
        offline(panel)
        expect(panel.get_by_label("Name (optional)")).to_be_focused()
        panel.get_by_label("Email", exact=True).fill("greta@")
        panel.get_by_label("Message", exact=True).fill("Do you ship tents to Norway?")
        panel.get_by_role("button", name="Send message").click()
        expect(panel.get_by_role("alert")).to_have_text("Please check the highlighted fields.")
        email = panel.get_by_label("Email", exact=True)
        expect(email).to_be_focused()
        expect(email).to_have_attribute("aria-invalid", "true")
        expect(panel.get_by_text("Enter an email address like name@example.com.")).to_be_visible()
        visitor.screenshot("widget-offline-form-error-375.png")

        email.fill("greta@example.com")
        panel.get_by_label("Name (optional)").fill("Greta Lindqvist")
        panel.get_by_role("button", name="Send message").click()
        expect(panel.get_by_text("Thank you! We will answer you by email.")).to_be_visible()
        expect(panel.locator("li", has_text="Do you ship tents to Norway?")).to_be_visible()
        visitor.screenshot("widget-offline-form-sent-375.png")
        visitor.assert_clean()

    with schema_context(tenant_a.schema_name):
        conversation = Conversation.objects.get(messages__text="Do you ship tents to Norway?")
        assert conversation.last_message_at is not None  # in the inbox
        assert (conversation.visitor.name, conversation.visitor.email) == (
            "Greta Lindqvist",
            "greta@example.com",
        )


def test_out_of_hours_a_site_may_hide_its_launcher(parley, tenant_a, on_plan, shop, module_browser):
    on_plan(tenant_a, "pro")  # two sites
    _, url = shop(**closed_for_two_days(), out_of_hours="hide_launcher")
    _, open_url = shop(out_of_hours="hide_launcher")
    with recorded_page(module_browser, width=1280) as visitor:
        page = visitor.page
        page.goto(url)
        expect(page.locator("parley-widget")).to_have_class(re.compile(r"\bgone\b"))
        expect(page.get_by_role("button", name=re.compile(r"^Open chat"))).to_be_hidden()
        page.goto(open_url)  # the same setting in hours: the launcher is there
        expect(page.get_by_role("button", name=re.compile(r"^Open chat"))).to_be_visible()
        visitor.assert_clean()


def test_the_prechat_form_asks_the_sites_questions_before_the_first_message(
    parley, tenant_a, shop, module_browser
):
    _site, url = shop(
        prechat="email_required",
        prechat_fields=[
            {"label": "Topic", "type": "select", "required": True, "options": ["Tents", "Boots"]},
            {"label": "Order number", "type": "number"},
            {"label": "Send me the newsletter", "type": "checkbox"},
        ],
    )

    def prechat(panel):
        expect(
            panel.get_by_text("Before we start, please tell us a little about you.")
        ).to_be_visible()
        expect(panel.get_by_label("Topic")).to_be_visible()
        expect(panel.get_by_label("Your message")).to_be_hidden()

    photograph(module_browser, url, "prechat", prechat)

    with recorded_page(module_browser, width=1280) as visitor:
        page = visitor.page
        panel = open_widget(page, url)
        prechat(panel)
        panel.get_by_label("Order number (optional)").fill("twelve")
        page.keyboard.press("Enter")  # submits from the keyboard
        expect(panel.get_by_role("alert")).to_have_text("Please check the highlighted fields.")
        expect(panel.get_by_label("Email", exact=True)).to_be_focused()
        expect(panel.get_by_text("Enter a number.")).to_be_visible()
        expect(panel.get_by_text("This is required.")).to_have_count(2)  # email and topic
        visitor.screenshot("widget-prechat-errors-1280.png")

        panel.get_by_label("Name (optional)").fill("Greta")
        panel.get_by_label("Email", exact=True).fill("greta@example.com")
        panel.get_by_label("Topic").select_option("Tents")
        panel.get_by_label("Order number (optional)").fill("1042")
        panel.get_by_label("Send me the newsletter (optional)").check()
        panel.get_by_role("button", name="Start the chat").click()
        composer = panel.get_by_label("Your message")
        expect(composer).to_be_visible()
        expect(composer).to_be_focused()
        composer.fill("Is the Ridge 2 in stock?")
        composer.press("Enter")
        expect(
            panel.locator("li:not(.pending)", has_text="Is the Ridge 2 in stock?")
        ).to_be_visible()
        visitor.assert_clean()

    with schema_context(tenant_a.schema_name):
        visitor_row = Visitor.objects.get(email="greta@example.com")
    assert visitor_row.name == "Greta"
    assert visitor_row.prechat_answers == [
        {"key": "topic", "label": "Topic", "value": "Tents"},
        {"key": "order_number", "label": "Order number", "value": "1042"},
        {"key": "send_me_the_newsletter", "label": "Send me the newsletter", "value": True},
    ]
