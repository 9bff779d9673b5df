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
from PIL import Image
from playwright.sync_api import expect

from tenants.models import SiteKey
from tests.support.browser import recorded_page
from tests.support.customer_pages import customer_pages, widget_page
from tests.support.dashboard_server import dashboard_server, log_in

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
