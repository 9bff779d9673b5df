"""People and notifications in chromium against a real daphne and its real sockets: a member
sets a name and a picture and sees them on their reply, live and after a reload (and the
visitor's socket gets the reply under that name); the tab title counts the conversations
waiting to be read, live; a visitor's message plays the sound and, while the tab is hidden,
shows a desktop notification that opens the conversation. Desktop width and 375 px;
screenshots in artifacts/.

The OS notification itself has no stand-in: the page's `Notification` is wrapped (an init
script) so the test sees each one constructed, and clicks it by dispatching its click event;
`HTMLMediaElement.play` is wrapped the same way. Chromium is granted the `notifications`
permission through the browser context, and the tab is made to report itself hidden.
"""

import io
import re

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.support.browser import recorded_page
from tests.support.dashboard_server import dashboard_server, log_in
from tests.support.widget_visitor import WidgetVisitor

pytestmark = [pytest.mark.e2e, pytest.mark.django_db]

ORIGIN = "https://shop.test"
# How an avatar looks: its element, classes (the colour) and initials.
DRAWN = "a => ({tag: a.tagName, classes: a.className, initials: a.textContent})"

OBSERVE = """
window.__played = [];
HTMLMediaElement.prototype.play = function () {
  window.__played.push(this.src);
  return Promise.resolve();
};
window.__notifications = [];
if (window.Notification) {
  const Real = window.Notification;
  window.Notification = class extends Real {
    constructor(title, options) {
      super(title, options);
      window.__notifications.push(this);
    }
  };
}
window.__hidden = false;
Object.defineProperty(document, "visibilityState", {
  configurable: true, get: () => (window.__hidden ? "hidden" : "visible"),
});
Object.defineProperty(document, "hidden", { configurable: true, get: () => window.__hidden });
"""


@pytest.fixture(scope="module")
def server(django_db_setup, django_db_blocker):
    with dashboard_server(django_db_blocker, slug="people-e2e", origins=(ORIGIN,)) as running:
        yield running


def member_page(browser, *, width=1024, permissions=()):
    """A member's browser that records notifications and sounds (OBSERVE)."""
    return recorded_page(
        browser, width=width, height=800, init_scripts=(OBSERVE,), permissions=tuple(permissions)
    )


def _choose_notifications(page, server) -> None:
    """Sound and desktop notifications on, through the profile form (as a member does)."""
    page.goto(f"{server.tenant_url}/profile/")
    page.fill("#id_display_name", "Ada Lovelace")
    page.check("#id_notify_sound")
    page.check("#id_notify_desktop")
    page.click("#profile-submit")
    expect(page.locator(".flash")).to_contain_text("Your profile is saved.")


def _picture(tmp_path) -> str:
    path = tmp_path / "me.jpg"
    out = io.BytesIO()
    Image.new("RGB", (400, 300), (30, 120, 200)).save(out, format="JPEG")
    path.write_bytes(out.getvalue())
    return str(path)


def test_a_name_and_picture_set_on_the_profile_sign_the_replies(
    server, module_browser, django_db_blocker, tmp_path
):
    with django_db_blocker.unblock():
        visitor = WidgetVisitor(server, "Greta", origin=ORIGIN)
    try:
        visitor.say("Hello, anyone?")
        with member_page(module_browser) as recorded:
            page = recorded.page
            log_in(page, server)
            expect(page.locator("#name-prompt")).to_be_visible()
            page.click("#nav-profile")
            page.fill("#id_display_name", "Ada Lovelace")
            page.set_input_files("#id_avatar", _picture(tmp_path))
            page.click("#profile-submit")
            expect(page.locator(".flash")).to_contain_text("Your profile is saved.")
            expect(page.locator("#nav-profile .profile-name")).to_have_text("Ada Lovelace")
            expect(page.locator("#nav-profile img.avatar")).to_be_visible()
            expect(page.locator("#name-prompt")).to_have_count(0)
            recorded.screenshot("profile-desktop.png", full_page=True)

            page.goto(f"{server.tenant_url}/conversations/room/{visitor.room}/")
            expect(page.locator("#live-status")).to_have_attribute("data-state", "live")
            page.fill("#reply-form textarea", "Hi Greta, Ada here.")
            page.press("#reply-form textarea", "Enter")
            mine = page.locator("#messages li.author-agent").last
            expect(mine.locator(".author")).to_have_text("Ada Lovelace")
            expect(mine.locator("img.avatar")).to_be_visible()
            expect(mine).to_have_attribute("data-id", re.compile(r"^\d+$"))
            expect(page.locator("#messages li.author-visitor .avatar").first).to_be_visible()
            # The visitor's socket gets the reply signed with the member's name.
            frame = visitor.next_agent_message()
            assert frame["author"]["name"] == "Ada Lovelace"
            assert frame["text"] == "Hi Greta, Ada here."
            recorded.screenshot("profile-reply-live.png", full_page=True)
            # A visitor's message arriving live is drawn as the page draws it once reloaded.
            visitor.say("Lovely, thanks!")
            theirs = page.locator("#messages li.author-visitor").last
            expect(theirs.locator(".text")).to_have_text("Lovely, thanks!")
            drawn_live = theirs.locator(".avatar").evaluate(DRAWN)

            page.reload()
            theirs = page.locator("#messages li.author-visitor").last
            expect(theirs.locator(".text")).to_have_text("Lovely, thanks!")
            assert theirs.locator(".avatar").evaluate(DRAWN) == drawn_live
            assert drawn_live["tag"] == "SPAN"
            assert re.fullmatch(r"avatar avatar-c[0-7]", drawn_live["classes"])
            mine = page.locator("#messages li.author-agent").last
            expect(mine.locator(".author")).to_have_text("Ada Lovelace")
            expect(mine.locator("img.avatar")).to_be_visible()
            avatar = mine.locator("img.avatar").get_attribute("src")
            assert (
                page.evaluate(
                    "async (url) => (await fetch(url)).headers.get('content-type')", avatar
                )
                == "image/png"
            )
            recorded.assert_clean()

        with member_page(module_browser, width=375) as narrow:
            page = narrow.page
            log_in(page, server)
            page.goto(f"{server.tenant_url}/profile/")
            expect(page.locator("#profile-form")).to_be_visible()
            assert page.evaluate("document.documentElement.scrollWidth") <= 375
            narrow.screenshot("profile-375.png", full_page=True)
            page.goto(f"{server.tenant_url}/conversations/room/{visitor.room}/")
            expect(page.locator("#messages li.author-agent img.avatar").last).to_be_visible()
            assert page.evaluate("document.documentElement.scrollWidth") <= 375
            narrow.screenshot("conversation-authors-375.png", full_page=True)
            narrow.assert_clean()
    finally:
        visitor.close()


def test_the_title_counts_waiting_conversations_and_a_message_rings_and_notifies(
    server, module_browser, django_db_blocker
):
    with member_page(module_browser, permissions=["notifications"]) as recorded:
        page = recorded.page
        log_in(page, server)
        _choose_notifications(page, server)
        page.goto(f"{server.tenant_url}/")
        expect(page.locator("#live-status")).to_have_attribute("data-state", "live")
        expect(page).to_have_title("All open · Inbox · People E2E · Parley")
        expect(page.locator("#desktop-offer")).to_be_hidden()  # permission already granted
        page.evaluate("window.__hidden = true")

        with django_db_blocker.unblock():
            visitor = WidgetVisitor(server, "Hana", origin=ORIGIN)
        try:
            visitor.say("Is the shop open on Sunday?")
            expect(page).to_have_title("(1) All open · Inbox · People E2E · Parley")
            page.wait_for_function("window.__played.length === 1")
            assert page.evaluate("window.__played[0]").endswith("/sounds/chime.wav")
            page.wait_for_function("window.__notifications.length === 1")
            shown = page.evaluate(
                "({title: window.__notifications[0].title, body: window.__notifications[0].body})"
            )
            assert shown["body"] == "Is the shop open on Sunday?"
            recorded.screenshot("notifications-title-count.png", full_page=True)

            # Another tab reads the conversation: this one's count goes down, live.
            with member_page(module_browser) as reader:
                log_in(reader.page, server)
                reader.page.goto(f"{server.tenant_url}/conversations/room/{visitor.room}/")
                expect(reader.page.locator("#messages")).to_contain_text("open on Sunday")
                expect(page).to_have_title("All open · Inbox · People E2E · Parley")
                reader.assert_clean()

            # Clicking the notification opens the conversation.
            page.evaluate("window.__notifications[0].dispatchEvent(new Event('click'))")
            page.wait_for_url(f"{server.tenant_url}/conversations/*/")
            expect(page.locator("#messages")).to_contain_text("open on Sunday")
            recorded.assert_clean()
        finally:
            visitor.close()

    with member_page(module_browser, width=375) as narrow:
        log_in(narrow.page, server)
        assert narrow.page.evaluate("document.documentElement.scrollWidth") <= 375
        narrow.screenshot("notifications-inbox-375.png", full_page=True)
        narrow.assert_clean()


def test_desktop_notifications_are_asked_for_on_a_click_only(
    server, module_browser, django_db_blocker
):
    with member_page(module_browser) as recorded:
        page = recorded.page
        page.add_init_script(
            "window.__asked = 0; Notification.requestPermission = () =>"
            " { window.__asked += 1; return Promise.resolve('default'); };"
        )
        log_in(page, server)
        _choose_notifications(page, server)
        offer = page.locator("#desktop-offer")
        expect(offer).to_be_visible()
        assert page.evaluate("window.__asked") == 0  # never unasked
        recorded.screenshot("notifications-offer.png", full_page=True)
        page.click("#enable-desktop-notifications")
        page.wait_for_function("window.__asked === 1")
        recorded.assert_clean()
