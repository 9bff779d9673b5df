"""Attachments on the sockets: a `message` frame sends its author's unsent uploads by id, every
member and agent gets their metadata with signed URLs, `ready` and `history` carry them, and an
id that is not the author's own unsent upload of the room is refused with `invalid_attachment`
to its sender alone (PROTOCOL.md, Attachments)."""

import io

import pytest
from channels.db import database_sync_to_async
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tenants.utils import schema_context
from PIL import Image

from tests.support.sockets import agent_joined, expect, joined, of_type
from widget.models import Attachment, Conversation
from widget.services.attachments import attachment_store

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fresh_sockets", "attachment_storage"),
]


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (10, 200, 10)).save(out, "PNG")
    return out.getvalue()


@database_sync_to_async
def uploaded(site, room: str, *, kind: str, uploader_id: str, body: bytes, name: str) -> str:
    with schema_context(site.tenant.schema_name):
        conversation = Conversation.objects.get(site_id=site.site.id, room=room)
        attachment = attachment_store(
            conversation=conversation,
            upload=SimpleUploadedFile(name, body),
            allowed_types=site.site.attachment_types,
            uploader_kind=kind,
            uploader_id=uploader_id,
            visitor=conversation.visitor if kind == Attachment.UploaderKind.VISITOR else None,
        )
        return str(attachment.id)


async def test_a_visitors_picture_reaches_the_agents_with_its_thumbnail(site, visitor, agent):
    agent_ws = await agent_joined(agent)
    visitor_ws = await joined(site, visitor)
    picture = await uploaded(
        site,
        visitor.room,
        kind="visitor",
        uploader_id=visitor.visitor_id,
        body=_png(),
        name="screen.png",
    )
    await visitor_ws.send_json_to(
        {"type": "message", "client_id": "v-1", "text": "", "attachments": [picture]}
    )
    await expect(visitor_ws, of_type("ack", client_id="v-1"))
    live = await expect(agent_ws, of_type("message", client_id="v-1"))
    [attachment] = live["attachments"]
    assert attachment["id"] == picture
    assert attachment["name"] == "screen.png"
    assert attachment["content_type"] == "image/png"
    assert (attachment["width"], attachment["height"]) == (40, 30)
    assert "/files/" in attachment["url"]
    assert "/files/" in attachment["thumbnail_url"]
    assert live["text"] == ""

    # A fresh page and the history carry it too, with links signed anew.
    fresh = await joined(site, visitor)
    [stored] = fresh.ready["messages"]
    assert stored["attachments"][0]["id"] == picture
    await fresh.send_json_to({"type": "history", "limit": 10})
    history = await expect(fresh, of_type("history"))
    assert history["messages"][0]["attachments"][0]["name"] == "screen.png"
    await agent_ws.send_json_to({"type": "history", "conversation": visitor.room, "limit": 10})
    agent_history = await expect(agent_ws, of_type("history"))
    assert agent_history["messages"][0]["attachments"][0]["id"] == picture


async def test_an_agent_sends_a_pdf_to_the_visitor(site, visitor, agent):
    agent_ws = await agent_joined(agent)
    visitor_ws = await joined(site, visitor)
    pdf = await uploaded(
        site,
        visitor.room,
        kind="agent",
        uploader_id=str(agent.user_id),
        body=b"%PDF-1.4\n%%EOF\n",
        name="terms.pdf",
    )
    await agent_ws.send_json_to(
        {
            "type": "message",
            "conversation": visitor.room,
            "client_id": "a-1",
            "text": "Our terms",
            "attachments": [pdf],
        }
    )
    received = await expect(visitor_ws, of_type("message", client_id="a-1"))
    assert received["attachments"][0]["content_type"] == "application/pdf"
    assert received["attachments"][0]["thumbnail_url"] is None


async def test_an_upload_not_the_senders_own_and_unsent_is_refused(site, visitor, agent):
    from tests.support.factories import make_visitor

    other = await database_sync_to_async(make_visitor)(site)
    theirs = await uploaded(
        site, other.room, kind="visitor", uploader_id=other.visitor_id, body=b"x", name="x.txt"
    )
    mine = await uploaded(
        site,
        visitor.room,
        kind="visitor",
        uploader_id=visitor.visitor_id,
        body=b"y",
        name="y.txt",
    )
    visitor_ws = await joined(site, visitor)
    for client_id, ids in (("v-1", [theirs]), ("v-2", ["not-an-id"])):
        await visitor_ws.send_json_to(
            {"type": "message", "client_id": client_id, "text": "hi", "attachments": ids}
        )
        refused = await expect(visitor_ws, of_type("error", client_id=client_id))
        assert refused["code"] in ("invalid_attachment", "bad_request")
    await visitor_ws.send_json_to(
        {"type": "message", "client_id": "v-3", "text": "", "attachments": [mine]}
    )
    await expect(visitor_ws, of_type("ack", client_id="v-3"))
    # Sent once: a second message may not send it again (its resend with v-3 is the same one).
    await visitor_ws.send_json_to(
        {"type": "message", "client_id": "v-4", "text": "again", "attachments": [mine]}
    )
    refused = await expect(visitor_ws, of_type("error", client_id="v-4"))
    assert refused["code"] == "invalid_attachment"
    # An empty message without attachments is still refused.
    await visitor_ws.send_json_to({"type": "message", "client_id": "v-5", "text": " "})
    assert (await expect(visitor_ws, of_type("error", client_id="v-5")))["code"] == "bad_request"
