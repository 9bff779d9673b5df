"""Attachments end to end through the platform host's HTTP surface (uploads, serving) and the
message service, on the filesystem and on a real S3-compatible server (moto's server mode).

What must hold: the type comes from the bytes (415 otherwise), the size from the limits (413),
uploads are budgeted (429), images lose their EXIF and GPS data, files are served inert (nosniff,
sandbox, a download unless a safe raster image) and only through a live link of their tenant, a
message links only its author's unsent uploads of its conversation, and erasure and retention
delete the stored bytes.
"""

import io
from datetime import timedelta
from unittest import mock

import pytest
from django.core import signing
from django.utils import timezone
from django_tenants.utils import schema_context
from PIL import Image

from tests.support.api_clients import PlatformClient, error_code
from tests.support.factories import make_site, make_visitor
from widget.attachments import links
from widget.models import Attachment, Conversation, Message, Visitor
from widget.services.attachments import (
    InvalidAttachment,
    attachments_prune_unsent,
    frames_attachments,
)
from widget.services.erasure import messages_prune, visitor_erase
from widget.services.messages import message_post

UPLOAD = "/api/widget/v1/attachments"
SVG_WITH_SCRIPT = (
    b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)">'
    b"<script>document.title='ran'</script><circle r='4'/></svg>"
)
HTML_WITH_SCRIPT = b"<!doctype html><html><body><script>document.title='ran'</script></body></html>"


def jpeg_with_gps(width: int = 64, height: int = 32) -> bytes:
    """A JPEG whose EXIF says: rotate 90 degrees (orientation 6), and where it was taken."""
    image = Image.new("RGB", (width, height), (200, 30, 30))
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90 CW to display
    exif[0x010F] = "ParleyCam"  # make
    gps = {1: "N", 2: (52.0, 31.0, 12.0), 3: "E", 4: (13.0, 24.0, 36.0)}
    exif[0x8825] = gps
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def png(size: tuple[int, int] = (20, 10)) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", size, (0, 120, 255, 200)).save(out, "PNG")
    return out.getvalue()


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def shop(platform, tenant_a):
    return make_site(tenant_a)


@pytest.fixture
def grace(shop):
    return make_visitor(shop, name="Grace")


def upload(
    visitor,
    site,
    body: bytes,
    name: str,
    *,
    content_type="application/octet-stream",
    origin=None,
    **query,
):
    client = PlatformClient()
    file = io.BytesIO(body)
    file.name = name
    params = "&".join(f"{k}={v}" for k, v in {"site_key": site.key, **query}.items())
    return client.post(
        f"{UPLOAD}?{params}",
        data={"file": file},
        HTTP_ORIGIN=origin or site.origin,
        HTTP_AUTHORIZATION=f"Bearer {visitor.token}",
    )


def fetch(url: str):
    path = url.split("://", 1)[1].split("/", 1)[1]
    return PlatformClient().get(f"/{path}")


def body_of(response) -> bytes:
    return b"".join(response.streaming_content)


def test_an_image_is_stored_without_its_exif_and_turned_as_it_asked(
    attachment_storage, shop, grace
):
    response = upload(
        grace, shop, jpeg_with_gps(), "../../holiday photo.jpg", content_type="text/html"
    )
    assert response.status_code == 201, response.content
    stored = response.json()
    assert stored["content_type"] == "image/jpeg"
    assert stored["name"] == "holiday photo.jpg"
    # Orientation 6 applied to the pixels: 64x32 became 32x64.
    assert (stored["width"], stored["height"]) == (32, 64)
    assert stored["thumbnail_url"]

    original = fetch(stored["url"])
    assert original.status_code == 200
    assert original["Content-Type"] == "image/jpeg"
    assert original["Content-Disposition"].startswith("inline")
    data = body_of(original)
    image = Image.open(io.BytesIO(data))
    assert (image.width, image.height) == (32, 64)
    assert dict(image.getexif()) == {}
    assert "exif" not in image.info
    assert b"ParleyCam" not in data

    with schema_context(shop.tenant.schema_name):
        row = Attachment.objects.get(pk=stored["id"])
    assert attachment_storage.exists(row.storage_key)
    assert attachment_storage.exists(row.thumbnail_key)
    with attachment_storage.open(row.storage_key) as kept:
        assert b"ParleyCam" not in kept.read()

    thumbnail = fetch(stored["thumbnail_url"])
    assert thumbnail["Content-Type"] == "image/webp"
    assert Image.open(io.BytesIO(body_of(thumbnail))).format == "WEBP"


@pytest.mark.parametrize(
    ("body", "name"),
    [(HTML_WITH_SCRIPT, "page.html"), (SVG_WITH_SCRIPT, "logo.svg")],
)
def test_markup_is_text_served_as_an_inert_download(attachment_storage, shop, grace, body, name):
    response = upload(grace, shop, body, name, content_type="image/svg+xml")
    assert response.status_code == 201, response.content
    stored = response.json()
    assert stored["content_type"] == "text/plain"
    assert stored["thumbnail_url"] is None

    served = fetch(stored["url"])
    assert served.status_code == 200
    assert served["Content-Type"] == "text/plain; charset=utf-8"
    assert served["Content-Disposition"].startswith("attachment;")
    assert name in served["Content-Disposition"]
    assert served["X-Content-Type-Options"] == "nosniff"
    assert served["Content-Security-Policy"] == "sandbox; default-src 'none'"
    assert "Set-Cookie" not in served
    assert body_of(served) == body


def test_a_pdf_is_a_download(attachment_storage, shop, grace):
    stored = upload(grace, shop, PDF, "invoice.pdf").json()
    assert stored["content_type"] == "application/pdf"
    served = fetch(stored["url"])
    assert served["Content-Type"] == "application/pdf"
    assert served["Content-Disposition"].startswith("attachment;")
    assert body_of(served) == PDF


def test_the_type_comes_from_the_bytes_and_the_site_decides(attachment_storage, shop, grace):
    # An executable named like an image, announced as one.
    elf = b"\x7fELF\x02\x01\x01" + bytes(200)
    refused = upload(grace, shop, elf, "cat.png", content_type="image/png")
    assert refused.status_code == 415
    assert error_code(refused) == "unsupported_type"
    # Text named .png is text; a site that takes images only refuses it.
    shop.site.attachment_types = ["image/png"]
    shop.site.save()
    from tenants.site_directory import site_cache_clear

    site_cache_clear()
    refused = upload(grace, shop, b"just words", "words.png", content_type="image/png")
    assert refused.status_code == 415
    assert upload(grace, shop, png(), "anything.bin").status_code == 201
    # A PNG header over bytes that are no image.
    broken = upload(grace, shop, png()[:40] + bytes(100), "broken.png")
    assert broken.status_code == 415
    with schema_context(shop.tenant.schema_name):
        assert Attachment.objects.count() == 1


def test_size_limits_answer_413(attachment_storage, settings, shop, grace):
    settings.ATTACHMENT_MAX_BYTES = 1000
    too_big = upload(grace, shop, b"a" * 1001, "big.txt")
    assert too_big.status_code == 413
    assert error_code(too_big) == "payload_too_large"
    assert upload(grace, shop, b"a" * 1000, "fits.txt").status_code == 201

    # The Free plan (the suite's default) takes 2 MB, whatever the installation allows.
    settings.ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024
    over_plan = upload(grace, shop, b"a" * (2 * 1024 * 1024 + 1), "plan.txt")
    assert over_plan.status_code == 413
    assert "2097152" in over_plan.json()["error"]["message"]
    with schema_context(shop.tenant.schema_name):
        assert Attachment.objects.count() == 1


def test_a_body_declared_too_large_is_refused_before_it_is_read(settings, shop, grace):
    settings.ATTACHMENT_MAX_BYTES = 1000
    response = PlatformClient().post(
        f"{UPLOAD}?site_key={shop.key}",
        data=b"x" * 10,
        content_type="multipart/form-data; boundary=zz",
        HTTP_ORIGIN=shop.origin,
        HTTP_AUTHORIZATION=f"Bearer {grace.token}",
        CONTENT_LENGTH="999999999",
    )
    assert response.status_code == 413


def test_uploads_are_budgeted_per_visitor(attachment_storage, settings, shop, grace):
    settings.BUDGET_VISITOR_UPLOADS = 2
    assert upload(grace, shop, b"one", "1.txt").status_code == 201
    assert upload(grace, shop, b"two", "2.txt").status_code == 201
    third = upload(grace, shop, b"three", "3.txt")
    assert third.status_code == 429
    assert error_code(third) == "rate_limited"
    assert int(third["Retry-After"]) > 0
    other = make_visitor(shop, name="Other")
    assert upload(other, shop, b"mine", "4.txt").status_code == 201


def test_uploads_need_the_sites_origin_and_a_token_of_the_site(shop, grace, tenant_a, on_plan):
    on_plan(tenant_a, "pro")  # two sites
    assert upload(grace, shop, b"x", "a.txt", origin="https://evil.example").status_code == 403
    forged = type(grace)(grace.visitor_id, grace.room, grace.token + "x", grace.name)
    assert error_code(upload(forged, shop, b"x", "a.txt")) == "invalid_token"
    other_site = make_site(tenant_a, name="Other", origin="https://other.example.com")
    stranger = make_visitor(other_site)
    assert upload(stranger, shop, b"x", "a.txt").status_code == 401
    # Another visitor's private conversation, or a public room the site does not have.
    assert upload(grace, shop, b"x", "a.txt", room=make_visitor(shop).room).status_code == 404


def test_a_preflight_allows_the_token_header(shop):
    response = PlatformClient().options(
        UPLOAD,
        HTTP_ORIGIN=shop.origin,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization",
    )
    assert response.status_code == 200
    assert "authorization" in response["Access-Control-Allow-Headers"]


def _signed_at(moment: float, **claims) -> str:
    with mock.patch("django.core.signing.time.time", return_value=moment):
        return links.file_token(**claims)


def test_links_expire_are_tamper_proof_and_bound_to_their_tenant(
    attachment_storage, settings, shop, grace, tenant_b
):
    stored = upload(grace, shop, b"secret", "s.txt").json()
    token = stored["url"].rsplit("/", 1)[1]
    old = _signed_at(
        timezone.now().timestamp() - settings.FILE_URL_TTL - 5,
        schema_name=shop.tenant.schema_name,
        attachment_id=stored["id"],
    )
    expired = fetch(f"http://x/files/{old}")
    assert expired.status_code == 410
    assert error_code(expired) == "link_expired"
    assert expired["X-Content-Type-Options"] == "nosniff"

    assert fetch(f"http://x/files/{token[:-2]}zz").status_code == 404
    # The same attachment id signed for another tenant's schema is not found there.
    elsewhere = links.file_token(schema_name=tenant_b.schema_name, attachment_id=stored["id"])
    assert fetch(f"http://x/files/{elsewhere}").status_code == 404
    # A signature made with another salt (a visitor token, say) is no file link.
    assert fetch(f"http://x/files/{signing.dumps(['a', 'b', 'o'])}").status_code == 404


def test_a_message_sends_its_authors_unsent_uploads_of_its_conversation(
    attachment_storage, shop, grace
):
    first = upload(grace, shop, png(), "a.png").json()
    second = upload(grace, shop, PDF, "b.pdf").json()
    other = make_visitor(shop)
    theirs = upload(other, shop, b"theirs", "c.txt").json()
    with schema_context(shop.tenant.schema_name):
        conversation = Conversation.objects.get(room=grace.room)
        send = {
            "tenant_id": shop.tenant.id,
            "conversation": conversation,
            "author_kind": "visitor",
            "author_id": grace.visitor_id,
            "author_name": "Grace",
        }
        for refused in ([theirs["id"]], [first["id"], "00000000-0000-4000-8000-000000000000"]):
            with pytest.raises(InvalidAttachment):
                message_post(text="look", attachment_ids=tuple(refused), **send)
        # An agent cannot send the visitor's upload as their own.
        with pytest.raises(InvalidAttachment):
            message_post(
                **{**send, "author_kind": "agent", "author_id": "1"},
                text="",
                attachment_ids=(first["id"],),
            )
        message, created = message_post(text="", attachment_ids=(second["id"], first["id"]), **send)
        assert created
        assert Message.objects.filter(pk=message.pk).exists()
        # Sent once: never again.
        with pytest.raises(InvalidAttachment):
            message_post(text="again", attachment_ids=(first["id"],), **send)

        from widget.frames import message_of

        live = message_of(message)
        assert [item["id"] for item in live["attachments"]] == [second["id"], first["id"]]
        [read_back] = frames_attachments([message_of(Message.objects.get(pk=message.pk))])
    assert [item["name"] for item in read_back["attachments"]] == ["b.pdf", "a.png"]
    image = read_back["attachments"][1]
    assert image["content_type"] == "image/png"
    assert image["width"] == 20
    assert fetch(image["url"]).status_code == 200
    assert fetch(image["thumbnail_url"]).status_code == 200


def test_erasing_a_visitor_deletes_their_files(attachment_storage, shop, grace):
    sent = upload(grace, shop, png(), "a.png").json()
    unsent = upload(grace, shop, b"draft", "b.txt").json()
    keep_visitor = make_visitor(shop)
    kept = upload(keep_visitor, shop, b"kept", "c.txt").json()
    with schema_context(shop.tenant.schema_name):
        conversation = Conversation.objects.get(room=grace.room)
        message_post(
            tenant_id=shop.tenant.id,
            conversation=conversation,
            text="",
            author_kind="visitor",
            author_id=grace.visitor_id,
            attachment_ids=(sent["id"],),
        )
        rows = {row.pk: row for row in Attachment.objects.all()}
        keys = [
            key
            for attachment_id in (sent["id"], unsent["id"])
            for key in (
                rows[_uuid(attachment_id)].storage_key,
                rows[_uuid(attachment_id)].thumbnail_key,
            )
            if key
        ]
        assert len(keys) == 3
        assert all(attachment_storage.exists(key) for key in keys)
        with _commits():
            visitor_erase(
                tenant_id=shop.tenant.id, visitor=Visitor.objects.get(pk=grace.visitor_id)
            )
        assert not any(attachment_storage.exists(key) for key in keys)
        assert attachment_storage.exists(rows[_uuid(kept["id"])].storage_key)
        assert list(Attachment.objects.values_list("pk", flat=True)) == [_uuid(kept["id"])]
    assert fetch(sent["url"]).status_code == 404


def test_retention_deletes_old_messages_files_and_stale_uploads(attachment_storage, shop, grace):
    sent = upload(grace, shop, b"old", "old.txt").json()
    stale = upload(grace, shop, b"stale", "stale.txt").json()
    fresh = upload(grace, shop, b"fresh", "fresh.txt").json()
    with schema_context(shop.tenant.schema_name):
        conversation = Conversation.objects.get(room=grace.room)
        message, _ = message_post(
            tenant_id=shop.tenant.id,
            conversation=conversation,
            text="old",
            author_kind="visitor",
            author_id=grace.visitor_id,
            attachment_ids=(sent["id"],),
        )
        past = timezone.now() - timedelta(days=400)
        Message.objects.filter(pk=message.pk).update(created_at=past)
        Attachment.objects.filter(pk=stale["id"]).update(created_at=past)
        rows = {str(row.pk): row for row in Attachment.objects.all()}
        with _commits():
            assert messages_prune(before=timezone.now() - timedelta(days=30)) == 1
            assert attachments_prune_unsent(before=timezone.now() - timedelta(hours=24)) == 1
        assert not attachment_storage.exists(rows[sent["id"]].storage_key)
        assert not attachment_storage.exists(rows[stale["id"]].storage_key)
        assert attachment_storage.exists(rows[fresh["id"]].storage_key)
        assert [str(pk) for pk in Attachment.objects.values_list("pk", flat=True)] == [fresh["id"]]


def _uuid(value: str):
    import uuid

    return uuid.UUID(value)


def _commits():
    """Run the on-commit hooks of what the block does (the test's transaction never commits)."""
    from django.test import TestCase

    return TestCase.captureOnCommitCallbacks(execute=True)


def test_the_site_key_api_uploads_and_sends_a_file(attachment_storage, api_a, shop, grace):
    with schema_context(shop.tenant.schema_name):
        conversation = Conversation.objects.get(room=grace.room)
    file = io.BytesIO(PDF)
    file.name = "quote.pdf"
    uploaded = api_a.post(f"/api/v1/conversations/{conversation.pk}/attachments", {"file": file})
    assert uploaded.status_code == 201, uploaded.content
    attachment_id = uploaded.json()["id"]
    sent = api_a.post_json(
        f"/api/v1/conversations/{conversation.pk}/messages",
        {"text": "", "attachments": [attachment_id]},
    )
    assert sent.status_code == 201, sent.content
    assert sent.json()["attachments"][0]["name"] == "quote.pdf"
    listed = api_a.get(f"/api/v1/conversations/{conversation.pk}/messages").json()["data"]
    assert listed[-1]["attachments"][0]["id"] == attachment_id
    assert body_of(fetch(listed[-1]["attachments"][0]["url"])) == PDF
    # A visitor's upload is not the API's to send.
    theirs = upload(grace, shop, b"mine", "m.txt").json()["id"]
    refused = api_a.post_json(
        f"/api/v1/conversations/{conversation.pk}/messages", {"attachments": [theirs]}
    )
    assert refused.status_code == 400
    assert error_code(refused) == "invalid_attachment"
    assert (
        PlatformClient()
        .post(f"/api/v1/conversations/{conversation.pk}/attachments", {"file": io.BytesIO(b"x")})
        .status_code
        == 401
    )


def test_an_agent_uploads_from_the_dashboard_with_the_csrf_token(
    attachment_storage, settings, shop, grace, tenant_a
):
    from django.test import Client

    from tests.support.factories import make_agent

    agent = make_agent(tenant_a)
    with schema_context(shop.tenant.schema_name):
        conversation = Conversation.objects.get(room=grace.room)
    client = Client(HTTP_HOST=agent.host, enforce_csrf_checks=True)
    client.cookies["sessionid"] = agent.session_key
    path = f"/conversations/{conversation.pk}/attachments/"
    file = io.BytesIO(png())
    file.name = "diagram.png"
    assert client.post(path, {"file": file}).status_code == 403  # no CSRF token
    client.get(f"/conversations/{conversation.pk}/")
    token = client.cookies["csrftoken"].value
    file.seek(0)
    uploaded = client.post(path, {"file": file}, HTTP_X_CSRFTOKEN=token)
    assert uploaded.status_code == 201, uploaded.content
    assert uploaded.json()["content_type"] == "image/png"
    with schema_context(shop.tenant.schema_name):
        row = Attachment.objects.get(pk=uploaded.json()["id"])
    assert (row.uploader_kind, row.uploader_id) == ("agent", str(agent.user_id))
    # The CSRF check reads the body first: within the installation's limit, then the plan's.
    big = io.BytesIO(b"a" * (2 * 1024 * 1024 + 1))
    big.name = "big.txt"
    over_plan = client.post(path, {"file": big}, HTTP_X_CSRFTOKEN=token)
    assert over_plan.status_code == 413
    assert error_code(over_plan) == "payload_too_large"
    settings.ATTACHMENT_MAX_BYTES = 1000
    big.seek(0)
    assert client.post(path, {"file": big}, HTTP_X_CSRFTOKEN=token).status_code == 413
    small = io.BytesIO(b"a" * 900)
    small.name = "small.txt"
    assert client.post(path, {"file": small}, HTTP_X_CSRFTOKEN=token).status_code == 201


def test_a_site_chooses_its_types_through_the_api(api_a, shop, grace):
    path = f"/api/v1/sites/{shop.site.id}"
    assert api_a.get(path).json()["attachment_types"][:2] == ["image/png", "image/jpeg"]
    refused = api_a.patch_json(path, {"attachment_types": ["image/svg+xml", "text/html"]})
    assert refused.status_code == 400
    assert "image/svg+xml" in refused.json()["error"]["message"]
    changed = api_a.patch_json(path, {"attachment_types": ["application/pdf"]})
    assert changed.status_code == 200, changed.content
    assert changed.json()["attachment_types"] == ["application/pdf"]
    from tenants.site_directory import site_cache_clear

    site_cache_clear()
    assert upload(grace, shop, png(), "a.png").status_code == 415
