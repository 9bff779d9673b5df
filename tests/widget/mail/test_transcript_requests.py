"""Asking for a transcript: on the visitor's socket (a `transcript` frame, answered with the
address or an `error`) and through the site-key API (202, 400 `no_email`, 429, 404 for another
tenant's conversation). The dashboard's button: tests/dashboard/test_conversation_transcript.py."""

import pytest
from channels.db import database_sync_to_async
from django_tenants.utils import schema_context

from tests.support.api_clients import error_code
from tests.support.factories import make_site, make_visitor
from tests.support.sockets import expect, joined, of_type
from widget.models import Conversation, Visitor


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("fresh_sockets")
async def test_the_visitor_asks_on_the_socket(tenant_a):
    site = await database_sync_to_async(make_site)(tenant_a)
    visitor = await database_sync_to_async(make_visitor)(site, name="Grace")
    socket = await joined(site, visitor)

    await socket.send_json_to({"type": "transcript"})
    refused = await expect(socket, of_type("error"))
    assert refused["code"] == "no_email"
    await socket.send_json_to({"type": "transcript", "email": "not an address"})
    assert (await expect(socket, of_type("error")))["code"] == "bad_request"

    await socket.send_json_to({"type": "transcript", "email": "grace@example.com"})
    assert await expect(socket, of_type("transcript")) == {
        "type": "transcript",
        "email": "grace@example.com",
    }
    await socket.send_json_to({"type": "transcript", "email": "x" * 300 + "@example.com"})
    assert (await expect(socket, of_type("error")))["code"] == "bad_request"
    await socket.disconnect()


@pytest.fixture
def asked(tenant_a):
    """A conversation of tenant A whose visitor left an email."""
    site = make_site(tenant_a)
    visitor = make_visitor(site, name="Greta")
    with schema_context(tenant_a.schema_name):
        conversation = Conversation.objects.get(room=visitor.room)
        Visitor.objects.filter(pk=conversation.visitor_id).update(email="greta@example.com")
    return conversation


@pytest.mark.django_db
def test_the_site_key_api_asks_for_it(asked, api_a, api_b, tenant_a):
    url = f"/api/v1/conversations/{asked.pk}/transcript"
    assert api_b.post(url).status_code == 404  # another tenant's conversation is not there
    answered = api_a.post(url)
    assert answered.status_code == 202
    assert answered.json() == {"email": "greta@example.com"}
    with schema_context(tenant_a.schema_name):
        Conversation.objects.filter(pk=asked.pk).update(
            transcript_sent_at=Conversation.objects.get(pk=asked.pk).transcript_requested_at
        )
    again = api_a.post(url)
    assert (again.status_code, error_code(again)) == (429, "transcript_recent")
    with schema_context(tenant_a.schema_name):
        Visitor.objects.filter(pk=asked.visitor_id).update(email="")
        Conversation.objects.filter(pk=asked.pk).update(transcript_sent_at=None)
    nowhere = api_a.post(url)
    assert (nowhere.status_code, error_code(nowhere)) == (400, "no_email")
