"""Private notes over the site-key API: `POST .../messages` with `private: true` stores a note,
marked `private` in the API and its webhooks; the visitor's history never has it."""

import json

import pytest
from django_tenants.utils import schema_context

from tenants.models import WebhookDelivery
from tests.widget.test_site_api_conversations import make_conversation, site  # noqa: F401
from widget import hot_sql, selectors

pytestmark = pytest.mark.django_db


def test_a_note_over_the_api_is_kept_from_the_visitors_history(api_a, tenant_a, site):  # noqa: F811
    conversation = make_conversation(tenant_a, site.id, room="cv_notes", messages=["Hi?"])
    api_a.post(
        "/api/v1/webhooks",
        {"url": "https://hooks.example.com/p", "events": ["message.created"]},
        content_type="application/json",
    )
    url = f"/api/v1/conversations/{conversation.id}/messages"
    note = api_a.post(
        url, {"text": "VIP: be quick", "private": True}, content_type="application/json"
    )
    assert note.status_code == 201
    assert note.json()["private"] is True
    reply = api_a.post(url, {"text": "On it!"}, content_type="application/json")
    assert reply.json()["private"] is False

    listed = api_a.get(url).json()["data"]
    assert [(m["text"], m["private"]) for m in listed] == [
        ("Hi?", False),
        ("VIP: be quick", True),
        ("On it!", False),
    ]
    with schema_context(tenant_a.schema_name):
        ready, _ = hot_sql.frames_latest(conversation_id=conversation.id, limit=50)
        resumed, _ = hot_sql.frames_after(
            conversation_id=conversation.id, after_id=0, limit=50, overlap=10
        )
        history, _ = selectors.messages_before(conversation=conversation, before_id=None, limit=50)
        for_agents, _ = selectors.messages_before(
            conversation=conversation, before_id=None, limit=50, with_private=True
        )
    assert [m["text"] for m in ready] == ["Hi?", "On it!"]
    assert [m["text"] for m in resumed] == ["Hi?", "On it!"]
    assert [m.text for m in history] == ["Hi?", "On it!"]
    assert [m.text for m in for_agents] == ["Hi?", "VIP: be quick", "On it!"]

    bodies = [json.loads(b) for b in WebhookDelivery.objects.values_list("body", flat=True)]
    marks = sorted((b["data"]["message"]["text"], b["data"]["message"]["private"]) for b in bodies)
    assert marks == [("On it!", False), ("VIP: be quick", True)]


def test_private_must_be_a_boolean(api_a, tenant_a, site):  # noqa: F811
    conversation = make_conversation(tenant_a, site.id, room="cv_notes2")
    answer = api_a.post(
        f"/api/v1/conversations/{conversation.id}/messages",
        {"text": "x", "private": "yes"},
        content_type="application/json",
    )
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "bad_request"
