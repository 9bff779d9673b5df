"""The site page's live preview in chromium: the widget's own view (dist/preview.js) drawn in a
box beside the settings form (under it at 375 px), following the colour, greeting, position and
locale as the admin changes them, before anything is saved. It opens no socket and makes no
request to the widget's APIs; the page has no CSP violation and no serious axe finding.
Screenshots of the page and of the auto-assign checkbox at 1280 and 375 px in artifacts/."""

import re

import pytest
from playwright.sync_api import expect

from tenants.models import Site
from tests.support.axe import AXE, readable, serious_violations
from tests.support.browser import recorded_page
from tests.support.dashboard_server import dashboard_server, log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db]

WIDTHS = (1280, 375)
# Requests a page makes on its own (scripts' fetch/XHR, sockets, event streams), as chromium
# names their resource types.
SCRIPTED = {"fetch", "xhr", "websocket", "eventsource"}


@pytest.fixture(scope="module")
def server(django_db_setup, django_db_blocker):
    with dashboard_server(django_db_blocker, slug="preview-e2e", name="Acme Outdoor") as up:
        yield up


class Traffic:
    """Every request and socket of a page, recorded from before it loads."""

    def __init__(self, page):
        self.requests = []
        self.sockets = []
        page.on("request", lambda request: self.requests.append(request))
        page.on("websocket", lambda socket: self.sockets.append(socket.url))

    def scripted(self) -> list[str]:
        return [r.url for r in self.requests if r.resource_type in SCRIPTED]

    def to_widget_apis(self) -> list[str]:
        widget_apis = re.compile(r"/api/|/ws/|/widget/v/|/widget\.js")
        return [r.url for r in self.requests if widget_apis.search(r.url)]


def _open_site_page(page, server, width: int) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{server.tenant_url}/sites/{server.site.pk}/")
    expect(page.locator("#widget-preview .launcher")).to_be_visible()


def _box(locator) -> dict:
    box = locator.bounding_box()
    assert box is not None
    return box


def _inside(inner: dict, outer: dict) -> bool:
    return (
        inner["x"] >= outer["x"]
        and inner["y"] >= outer["y"]
        and inner["x"] + inner["width"] <= outer["x"] + outer["width"]
        and inner["y"] + inner["height"] <= outer["y"] + outer["height"]
    )


def test_the_preview_follows_colour_greeting_position_and_locale_before_saving(
    server, module_browser
):
    with recorded_page(module_browser, width=1280, height=900) as recorded:
        page = recorded.page
        log_in(page, server)
        # The inbox the login lands on has its own socket: the site page's traffic is apart.
        page.goto("about:blank")
        traffic = Traffic(page)
        _open_site_page(page, server, 1280)
        preview = page.locator("#widget-preview")
        launcher = preview.locator(".launcher")
        header = preview.locator("header")
        greeting = preview.locator(".greeting")

        # The saved settings first: the site's colour, the default greeting, on the right.
        site = server.site
        expect(greeting).to_have_text(site.greeting)
        expect(preview.locator("h2")).to_have_text(site.name)
        expect(preview.locator(".bubble")).to_have_text(
            ["Hi! Do you ship to Canada?", "We do! Orders to Canada arrive in 3 to 5 days."]
        )

        page.fill("#id_color", "#14532d")
        for part in (launcher, header, preview.locator(".mine .bubble")):
            expect(part).to_have_css("background-color", "rgb(20, 83, 45)")
        expect(header).to_have_css("color", "rgb(255, 255, 255)")
        # A light colour gets dark text, as on the customer's page.
        page.fill("#id_color", "#fde047")
        expect(header).to_have_css("background-color", "rgb(253, 224, 71)")
        expect(header).to_have_css("color", "rgb(17, 24, 39)")

        page.fill("#id_greeting", "Welcome to Acme! Ask us about tents.")
        expect(greeting).to_have_text("Welcome to Acme! Ask us about tents.")
        page.fill("#id_name", "Acme Outdoor shop")
        expect(preview.locator("h2")).to_have_text("Acme Outdoor shop")

        frame = _box(preview)
        page.select_option("#id_position", "left")
        expect(preview.locator("parley-widget")).to_have_class(re.compile(r"\bleft\b"))
        on_left = _box(launcher)
        assert on_left["x"] - frame["x"] < frame["width"] / 4
        page.select_option("#id_position", "right")
        expect(preview.locator("parley-widget")).not_to_have_class(re.compile(r"\bleft\b"))
        on_right = _box(launcher)
        right_gap = frame["x"] + frame["width"] - (on_right["x"] + on_right["width"])
        assert right_gap < frame["width"] / 4
        assert on_right["x"] > on_left["x"] + frame["width"] / 2

        note = page.locator("#preview-locale-note")
        expect(note).to_be_hidden()
        page.fill("#id_locale", "de")
        expect(preview.locator("textarea")).to_have_attribute("placeholder", "Nachricht schreiben…")
        expect(preview.locator(".send")).to_have_attribute("aria-label", "Senden")
        expect(launcher).to_have_attribute("aria-label", "Chat schließen")
        expect(preview.locator(".mine .meta")).to_contain_text("Sie")
        expect(preview.locator(".mine .meta")).to_contain_text("Gelesen")
        expect(preview.locator(".bubble").first).to_have_text(
            "Hallo! Liefern Sie auch nach Österreich?"
        )
        page.fill("#id_locale", "fr-CA")
        expect(preview.locator("textarea")).to_have_attribute("placeholder", "Écrivez un message…")
        expect(note).to_be_hidden()
        # A language the widget does not speak: English, and the page says so.
        page.fill("#id_locale", "pt-BR")
        expect(preview.locator("textarea")).to_have_attribute("placeholder", "Write a message…")
        expect(note).to_be_visible()
        expect(note).to_contain_text("does not speak “pt-BR”")
        expect(note).to_contain_text("English, German, French, or Spanish")

        # The notice a site that shows agents the draft gives its visitors, by the composer.
        disclosure = preview.locator(".disclosure")
        expect(disclosure).to_have_count(0)
        page.check("#id_typing_preview")
        expect(disclosure).to_have_text("The team sees what you type before you send it.")
        page.uncheck("#id_typing_preview")
        expect(disclosure).to_have_count(0)

        # The admin's own name answers in the sample conversation.
        expect(preview.locator("li:not(.mine) .meta")).to_contain_text("owner")

        # The widget stays in its box, placed in it and not on the page, and inert there.
        assert _inside(_box(preview.locator(".panel")), frame)
        assert _inside(_box(launcher), frame)
        assert page.locator("body > parley-widget").count() == 0
        host = preview.locator("parley-widget")
        assert host.evaluate("(node) => getComputedStyle(node).position") == "absolute"
        assert host.evaluate("(node) => node.inert") is True

        # A site that asks consent: its new visitors see that step first, in the site's words.
        page.fill("#id_locale", "en")
        page.check("#id_consent_required")
        expect(preview.get_by_text("Before we chat")).to_be_visible()
        expect(preview.locator(".consent")).to_contain_text("keeps a conversation id")
        page.fill("#id_consent_text", "We keep chats for 30 days.")
        expect(preview.locator(".consent")).to_contain_text("We keep chats for 30 days.")
        page.uncheck("#id_consent_required")
        expect(preview.locator(".consent")).to_have_count(0)

        recorded.screenshot("site-preview-edited-1280.png", full_page=True)

        # Nothing was saved.
        saved = Site.objects.filter(pk=site.pk).values("name", "color", "greeting", "locale").get()
        assert saved == {
            "name": site.name,
            "color": site.color,
            "greeting": site.greeting,
            "locale": site.locale,
        }

        assert traffic.sockets == []
        assert traffic.scripted() == []
        assert traffic.to_widget_apis() == []
        recorded.assert_clean()


def test_the_new_site_page_previews_the_widget_as_the_site_is_described(server, module_browser):
    with recorded_page(module_browser, width=1280, height=900) as recorded:
        page = recorded.page
        log_in(page, server)
        page.goto(f"{server.tenant_url}/sites/new/")
        preview = page.locator("#widget-preview")
        # No name yet: the widget's own word for a chat, on the form's initial colour.
        expect(preview.locator("h2")).to_have_text("Chat")
        expect(preview.locator("header")).to_have_css("background-color", "rgb(79, 70, 229)")
        page.fill("#id_name", "Trailhead Supply")
        expect(preview.locator("h2")).to_have_text("Trailhead Supply")
        page.fill("#id_locale", "es")
        expect(preview.locator(".greeting")).to_have_text("Hi! How can we help?")
        expect(preview.locator("textarea")).to_have_attribute("placeholder", "Escribe un mensaje…")
        recorded.screenshot("site-new-preview-1280.png", full_page=True)
        recorded.assert_clean()


def _auto_assign_area(page):
    """The field of 'Assign new conversations to online agents in turn'."""
    return page.locator(".field", has=page.locator("#id_auto_assign"))


@pytest.mark.parametrize("width", WIDTHS)
def test_the_preview_sits_beside_the_form_or_under_it_and_the_page_stays_accessible(
    server, module_browser, width
):
    with recorded_page(module_browser, width=width, height=900) as recorded:
        page = recorded.page
        page.add_init_script(path=str(AXE))
        log_in(page, server)
        _open_site_page(page, server, width)
        form = _box(page.locator("#site-form"))
        pane = _box(page.locator(".widget-preview-pane"))
        if width >= 1280:
            assert pane["x"] >= form["x"] + form["width"], "the preview is beside the form"
            assert abs(pane["y"] - form["y"]) < 40
            # The panel at the widget's real width.
            panel = _box(page.locator("#widget-preview .panel"))
            assert panel["width"] == pytest.approx(370, abs=1)
        else:
            assert pane["y"] >= form["y"] + form["height"], "the preview is under the form"
            assert page.evaluate("document.documentElement.scrollWidth") <= width
        frame = _box(page.locator("#widget-preview"))
        assert _inside(_box(page.locator("#widget-preview .panel")), frame)
        assert _inside(_box(page.locator("#widget-preview .launcher")), frame)
        # The greeting and the sample conversation fit the panel: none is scrolled out of sight.
        log = _box(page.locator("#widget-preview .log"))
        for part in ("greeting", "bubble"):
            for each in page.locator(f"#widget-preview .{part}").all():
                assert _inside(_box(each), log), part

        # Each checkbox's label stays beside its box (on its first line), however long.
        for name in (
            "public_rooms",
            "require_identity",
            "typing_preview",
            "auto_assign",
            "consent_required",
        ):
            box = _box(page.locator(f"#id_{name}"))
            label = _box(page.locator(f"label[for=id_{name}]"))
            assert label["x"] > box["x"] + box["width"]
            assert label["y"] < box["y"] + box["height"]

        violations = serious_violations(page)
        assert not violations, readable(violations)
        recorded.screenshot(f"site-preview-{width}.png", full_page=True)
        recorded.screenshot(
            f"site-preview-box-{width}.png", locator=page.locator(".widget-preview-pane")
        )
        area = _auto_assign_area(page)
        area.scroll_into_view_if_needed()
        around = _box(area)
        margin = 12
        clip = {
            "x": max(0, around["x"] - margin),
            "y": max(0, around["y"] - margin),
            "width": around["width"] + 2 * margin,
            "height": around["height"] + 2 * margin,
        }
        recorded.screenshot(f"site-auto-assign-{width}.png", clip=clip)
        recorded.assert_clean()
