"""Attachments both ways in chromium: the real widget on a customer page of a second origin, a
real daphne, the agent on the conversation page. A visitor pastes a photo (a JPEG with its
orientation and GPS position in EXIF) into the message box and sends it; the agent sees its
thumbnail arrive live and opens the original, which has no EXIF left; the agent attaches a PDF
with the picker and sends it; the visitor downloads it. At 1280 and 375 px, screenshots in
artifacts/.
"""

import base64
import io
import re

import pytest
from django_tenants.utils import tenant_context
from PIL import Image
from playwright.sync_api import expect

from tenants.models import DEFAULT_ATTACHMENT_TYPES, SiteKey
from tenants.services import site_update
from tests.support.browser import recorded_page
from tests.support.customer_pages import customer_pages, widget_page
from tests.support.dashboard_server import dashboard_server, log_in
from widget.models import Message

pytestmark = [pytest.mark.e2e, pytest.mark.django_db]

SHOP = "Acme Outdoor"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"

PASTE = """(box, data) => {
  const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
  const transfer = new DataTransfer();
  transfer.items.add(new File([bytes], "image.jpg", { type: "image/jpeg" }));
  box.focus();
  const paste = { clipboardData: transfer, bubbles: true, cancelable: true };
  box.dispatchEvent(new ClipboardEvent("paste", paste));
}"""


def photo_with_gps() -> bytes:
    image = Image.new("RGB", (600, 300), (30, 110, 200))
    for x in range(0, 600, 40):
        for y in range(300):
            image.putpixel((x, y), (250, 200, 40))
    exif = Image.Exif()
    exif[0x0112] = 6  # shown turned a quarter
    exif[0x010F] = "ParleyCam"
    exif[0x8825] = {1: "N", 2: (59.0, 19.0, 30.0), 3: "E", 4: (18.0, 4.0, 5.0)}
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


@pytest.fixture(scope="module")
def shop(django_db_setup, django_db_blocker):
    pages: dict[str, str] = {}
    with (
        customer_pages(pages) as origin,
        dashboard_server(
            django_db_blocker, slug="files-e2e", name=SHOP, origins=(origin,)
        ) as server,
    ):
        with django_db_blocker.unblock():
            key = SiteKey.objects.filter(site=server.site, revoked_at=None).first().key
        pages["/"] = widget_page(server.platform_url, key, title=SHOP)
        server.origin = origin
        yield server


def open_widget(page, url: str):
    page.goto(url)
    page.get_by_role("button", name=re.compile(r"^Open chat")).click()
    panel = page.get_by_role("dialog", name=f"{SHOP} site")
    expect(panel).to_be_visible()
    return panel


def room_of(page) -> str:
    return page.evaluate(
        """() => {
          const key = Object.keys(localStorage).find((k) => k.endsWith(':session'));
          return JSON.parse(localStorage.getItem(key)).conversation;
        }"""
    )


@pytest.mark.parametrize("width", [1280, 375])
def test_a_pasted_photo_and_a_pdf_go_both_ways(shop, module_browser, width):
    height = 900 if width > 400 else 740
    with (
        recorded_page(module_browser, width=width, height=height) as visitor,
        recorded_page(module_browser, width=width, height=height, timezone_id="UTC") as agent,
    ):
        shopper = visitor.page
        panel = open_widget(shopper, f"{shop.origin}/")
        box = shopper.get_by_label("Your message")
        box.fill("Hello, my tent pole broke")
        box.press("Enter")
        expect(panel.locator("li.mine:not(.pending)")).to_have_count(1)
        room = room_of(shopper)

        page = agent.page
        log_in(page, shop)
        page.goto(f"{shop.tenant_url}/conversations/room/{room}/")
        expect(page.locator("#live-status")).to_have_attribute("data-state", "live")

        # The visitor pastes the photo: it uploads, shows its thumbnail, and is sent alone.
        box.evaluate(PASTE, base64.b64encode(photo_with_gps()).decode())
        chip = panel.locator(".upload.ready")
        expect(chip).to_have_count(1)
        expect(chip.locator("img")).to_be_visible()
        visitor.screenshot(f"attachments-widget-composer-{width}.png")
        box.press("Enter")
        sent = panel.locator("li.mine:not(.pending) .thumb img")
        expect(sent).to_be_visible()
        expect(panel.locator(".upload")).to_have_count(0)

        # The agent sees the thumbnail live, and opens the original: turned, and no EXIF left.
        thumbnail = page.locator("#messages .message.author-visitor .file-thumb img")
        expect(thumbnail).to_be_visible()
        expect(thumbnail).to_have_attribute("alt", "image.jpg")
        assert thumbnail.evaluate("(img) => img.naturalWidth") > 0
        original_url = page.locator("#messages .file-thumb").get_attribute("href")
        with page.expect_popup() as opened:
            page.locator("#messages .file-thumb").click()
        popup = opened.value
        assert popup.url == original_url
        popup.close()
        original = page.context.request.get(original_url)
        assert original.headers["content-type"] == "image/jpeg"
        assert original.headers["x-content-type-options"] == "nosniff"
        stored = Image.open(io.BytesIO(original.body()))
        assert (stored.width, stored.height) == (300, 600)
        assert dict(stored.getexif()) == {}
        assert b"ParleyCam" not in original.body()

        # The agent attaches a PDF with the picker and sends it with a line of text.
        page.locator("#attach-input").set_input_files(
            files=[{"name": "return-label.pdf", "mimeType": "application/pdf", "buffer": PDF}]
        )
        expect(page.locator(".composer-file.ready")).to_have_count(1)
        agent.screenshot(
            f"attachments-dashboard-composer-{width}.png", locator=page.locator("#reply-form")
        )
        page.get_by_label("Reply").fill("Here is your return label")
        page.locator("#reply-submit").click()
        expect(page.locator(".composer-file")).to_have_count(0)
        card = panel.locator("li:not(.mine) .card")
        expect(card).to_contain_text("return-label.pdf")
        visitor.screenshot(f"attachments-widget-{width}.png")
        agent.screenshot(f"attachments-dashboard-{width}.png")

        # The visitor downloads it.
        with shopper.expect_download() as downloading:
            card.click()
        download = downloading.value
        assert download.suggested_filename == "return-label.pdf"
        with open(download.path(), "rb") as saved:
            assert saved.read() == PDF

        # After a reload both sides still show the files (history with fresh links).
        page.reload()
        expect(page.locator("#messages .file-thumb img")).to_be_visible()
        expect(page.locator("#messages .file-card")).to_contain_text("return-label.pdf")
        visitor.assert_clean()
        agent.assert_clean()


class AgentLine:
    """The agent page's socket through Playwright: `cut()` closes it as a network failure would
    (and refuses every reconnect with the browser offline), `restore()` lets the next one through
    to daphne."""

    def __init__(self, page) -> None:
        self.page = page
        self.down = False
        self.open: list = []
        page.route_web_socket(re.compile(r"/ws/agent/"), self._connect)

    def _connect(self, route) -> None:
        if self.down:
            route.close(code=1011, reason="network down")
            return
        self.open.append((route, route.connect_to_server()))

    def cut(self) -> None:
        self.down = True
        self.page.context.set_offline(True)
        for route, server in self.open:
            server.close()
            route.close(code=1011, reason="network down")
        self.open.clear()

    def restore(self) -> None:
        self.page.context.set_offline(False)
        self.down = False


def test_a_file_the_network_cut_is_sent_once_the_agent_is_back(
    shop, module_browser, django_db_blocker
):
    with (
        recorded_page(module_browser, width=1280, height=900) as visitor,
        recorded_page(module_browser, width=1280, height=900, timezone_id="UTC") as agent,
    ):
        shopper = visitor.page
        panel = open_widget(shopper, f"{shop.origin}/")
        box = shopper.get_by_label("Your message")
        box.fill("Can you send the return label again?")
        box.press("Enter")
        expect(panel.locator("li.mine:not(.pending)")).to_have_count(1)
        room = room_of(shopper)

        page = agent.page
        line = AgentLine(page)
        log_in(page, shop)
        page.goto(f"{shop.tenant_url}/conversations/room/{room}/")
        status = page.locator("#live-status")
        expect(status).to_have_attribute("data-state", "live")

        # Offline, the file cannot upload: it says so and waits with a Retry button; the reply
        # sent meanwhile waits for it.
        line.cut()
        expect(status).not_to_have_attribute("data-state", "live")
        page.locator("#attach-input").set_input_files(
            files=[{"name": "label-again.pdf", "mimeType": "application/pdf", "buffer": PDF}]
        )
        waiting = page.locator(".composer-file.waiting")
        expect(waiting).to_contain_text("label-again.pdf is not uploaded yet")
        expect(waiting.get_by_role("button", name="Retry label-again.pdf")).to_be_visible()
        page.get_by_label("Reply").fill("Here it is again")
        page.locator("#reply-submit").click()
        expect(page.locator("#reply-held")).to_be_visible()
        agent.screenshot(
            "attachments-dashboard-waiting-1280.png", locator=page.locator("#reply-form")
        )

        # Back online: the socket reconnects, the upload goes again, the reply goes with it.
        line.restore()
        expect(status).to_have_attribute("data-state", "live")
        expect(page.locator(".composer-file")).to_have_count(0)
        expect(page.locator("#reply-held")).to_be_hidden()
        expect(page.locator("#messages .message.author-agent:not(.pending)")).to_have_count(1)
        cards = panel.locator("li:not(.mine) .card")
        expect(cards).to_have_count(1)
        expect(cards).to_contain_text("label-again.pdf")

        # A file uploaded while live, sent as the socket is down: the reply says it is not sent
        # yet and goes when the socket is back.
        page.locator("#attach-input").set_input_files(
            files=[{"name": "invoice.pdf", "mimeType": "application/pdf", "buffer": PDF}]
        )
        expect(page.locator(".composer-file.ready")).to_have_count(1)
        line.cut()
        expect(status).not_to_have_attribute("data-state", "live")
        page.get_by_label("Reply").fill("And the invoice")
        page.locator("#reply-submit").click()
        unsent = page.locator("#messages .message.pending")
        expect(unsent.locator(".unsent-tag")).to_be_visible()
        line.restore()
        expect(status).to_have_attribute("data-state", "live")
        expect(unsent).to_have_count(0)
        expect(cards).to_have_count(2)
        expect(cards.nth(1)).to_contain_text("invoice.pdf")

        # Each exactly once, also after the visitor reloads.
        shopper.reload()  # the panel stays open
        expect(panel.locator("li:not(.mine) .card")).to_have_count(2)
        with django_db_blocker.unblock(), tenant_context(shop.tenant):
            replies = Message.objects.filter(conversation__room=room, author_kind="agent")
            sent = sorted((reply.text, reply.attachments.get().name) for reply in replies)
        assert sent == [("And the invoice", "invoice.pdf"), ("Here it is again", "label-again.pdf")]
        visitor.assert_clean()
        assert [e for e in agent.errors() if "ERR_INTERNET_DISCONNECTED" not in e] == []


@pytest.fixture(scope="module")
def shop_without_files(django_db_setup, django_db_blocker):
    pages: dict[str, str] = {}
    with (
        customer_pages(pages) as origin,
        dashboard_server(
            django_db_blocker, slug="nofiles-e2e", name=SHOP, origins=(origin,)
        ) as server,
    ):
        with django_db_blocker.unblock():
            site_update(site=server.site, attachment_types=[])
            key = SiteKey.objects.filter(site=server.site, revoked_at=None).first().key
        pages["/"] = widget_page(server.platform_url, key, title=SHOP)
        server.origin = origin
        yield server


def test_a_site_that_takes_no_file_offers_no_clip(shop_without_files, module_browser):
    with recorded_page(module_browser, width=1280, height=900) as visitor:
        panel = open_widget(visitor.page, f"{shop_without_files.origin}/")
        expect(panel.get_by_role("button", name="Add an emoji")).to_be_visible()
        expect(panel.get_by_role("button", name="Attach a file")).to_have_count(0)
        visitor.assert_clean()


def test_the_file_picker_offers_the_sites_types(shop, module_browser):
    with recorded_page(module_browser, width=1280, height=900) as visitor:
        panel = open_widget(visitor.page, f"{shop.origin}/")
        expect(panel.get_by_role("button", name="Attach a file")).to_be_visible()
        accept = panel.locator("input[type=file]").get_attribute("accept")
        assert accept.split(",") == list(DEFAULT_ATTACHMENT_TYPES)
