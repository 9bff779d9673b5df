"""The inbox's actions through the site-key API: assign, close, reopen, snooze, labels (the
conversation's and the tenant's), bulk, the team; each with what the dashboard would show after
it, the documented errors, and another tenant's ids answering 404 like missing ones."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from django_tenants.utils import schema_context

from tests.support.api_clients import error_code
from tests.support.factories import make_agent, make_site, make_visitor
from widget.models import Conversation, Label, Message

pytestmark = pytest.mark.django_db


@pytest.fixture
def chat(tenant_a):
    """A conversation of tenant A where the visitor has said something (so the inbox lists it)."""
    site = make_site(tenant_a)
    visitor = make_visitor(site, name="Greta")
    with schema_context(tenant_a.schema_name):
        conversation = Conversation.objects.get(room=visitor.room)
        Message.objects.create(
            conversation=conversation, author_kind="visitor", author_id="v", text="Help"
        )
        Conversation.objects.filter(pk=conversation.pk).update(last_message_at=timezone.now())
    conversation.site_fixture = site
    return conversation


def url(conversation, tail: str = "") -> str:
    return f"/api/v1/conversations/{conversation.pk}{tail}"


def listed(api, **filters) -> list[int]:
    return [row["id"] for row in api.get("/api/v1/conversations", filters).json()["data"]]


def test_a_conversation_is_assigned_and_given_back_to_nobody(api_a, tenant_a, chat):
    agent = make_agent(tenant_a)
    members = api_a.get("/api/v1/members").json()["data"]
    assert {"id": agent.user_id, "role": "agent", "active": True}.items() <= next(
        m for m in members if m["id"] == agent.user_id
    ).items()

    assigned = api_a.put_json(url(chat, "/assignee"), {"member_id": agent.user_id})
    assert assigned.status_code == 200, assigned.content
    assert assigned.json()["assignee_id"] == agent.user_id
    assert listed(api_a, assignee=agent.user_id) == [chat.pk]
    assert listed(api_a, unassigned="true") == []

    back = api_a.put_json(url(chat, "/assignee"), {"member_id": None})
    assert back.json()["assignee_id"] is None
    assert listed(api_a, unassigned="true") == [chat.pk]

    missing = api_a.put_json(url(chat, "/assignee"), {"member_id": 999_999})
    assert (missing.status_code, error_code(missing)) == (404, "not_found")
    wrong_type = api_a.put_json(url(chat, "/assignee"), {"member_id": "ada"})
    assert (wrong_type.status_code, error_code(wrong_type)) == (400, "bad_request")


def test_an_inactive_member_cannot_be_assigned(api_a, tenant_a, chat):
    gone = make_agent(tenant_a)
    with schema_context(tenant_a.schema_name):
        get_user_model().objects.filter(pk=gone.user_id).update(is_active=False)
    refused = api_a.put_json(url(chat, "/assignee"), {"member_id": gone.user_id})
    assert (refused.status_code, error_code(refused)) == (400, "bad_request")
    with schema_context(tenant_a.schema_name):
        assert Conversation.objects.get(pk=chat.pk).assignee_id is None


def test_close_reopen_and_snooze_move_the_conversation_between_views(api_a, tenant_a, chat):
    closed = api_a.post(url(chat, "/close"))
    assert (closed.status_code, closed.json()["status"]) == (200, "closed")
    assert api_a.post(url(chat, "/close")).json()["status"] == "closed"  # again: unchanged
    assert listed(api_a, status="closed") == [chat.pk]
    snooze_closed = api_a.put_json(
        url(chat, "/snooze"), {"until": (timezone.now() + timedelta(hours=1)).isoformat()}
    )
    assert (snooze_closed.status_code, error_code(snooze_closed)) == (400, "bad_request")

    assert api_a.post(url(chat, "/reopen")).json()["status"] == "open"
    until = timezone.now() + timedelta(hours=3)
    snoozed = api_a.put_json(url(chat, "/snooze"), {"until": until.isoformat()})
    assert snoozed.status_code == 200, snoozed.content
    assert listed(api_a, snoozed="true") == [chat.pk]
    assert listed(api_a, snoozed="false") == []

    for until_text in ["2001-01-01T00:00:00+00:00", "2999-01-01T00:00:00", "tomorrow"]:
        refused = api_a.put_json(url(chat, "/snooze"), {"until": until_text})
        assert (refused.status_code, error_code(refused)) == (400, "bad_request"), until_text

    woken = api_a.delete(url(chat, "/snooze"))
    assert (woken.status_code, woken.json()["snoozed_until"]) == (200, None)
    assert listed(api_a, snoozed="false") == [chat.pk]


def test_labels_are_managed_and_put_on_conversations(api_a, tenant_a, chat):
    created = api_a.post_json("/api/v1/labels", {"name": "  Billing  ", "color": "#2563EB"})
    assert created.status_code == 201, created.content
    label = created.json()
    assert (label["name"], label["color"]) == ("Billing", "#2563eb")
    taken = api_a.post_json("/api/v1/labels", {"name": "billing"})
    assert (taken.status_code, error_code(taken)) == (400, "bad_request")
    bad_colour = api_a.post_json("/api/v1/labels", {"name": "Bug", "color": "red"})
    assert (bad_colour.status_code, error_code(bad_colour)) == (400, "bad_request")

    on = api_a.put(url(chat, f"/labels/{label['id']}"))
    assert on.status_code == 200, on.content
    assert [item["name"] for item in on.json()["labels"]] == ["Billing"]
    assert listed(api_a, label=label["id"]) == [chat.pk]
    listed_row = api_a.get("/api/v1/conversations").json()["data"][0]
    assert [item["name"] for item in listed_row["labels"]] == ["Billing"], listed_row

    renamed = api_a.patch_json(f"/api/v1/labels/{label['id']}", {"name": "Invoices"})
    assert (renamed.status_code, renamed.json()["color"]) == (200, "#2563eb")
    assert [item["name"] for item in api_a.get("/api/v1/labels").json()["data"]] == ["Invoices"]

    off = api_a.delete(url(chat, f"/labels/{label['id']}"))
    assert off.json()["labels"] == []
    assert api_a.delete(f"/api/v1/labels/{label['id']}").status_code == 204
    gone = api_a.put(url(chat, f"/labels/{label['id']}"))
    assert (gone.status_code, error_code(gone)) == (404, "not_found")


def test_bulk_actions_change_every_conversation_named_and_skip_unknown_ids(api_a, tenant_a, chat):
    others = []
    with schema_context(tenant_a.schema_name):
        for name in ("Hugo", "Ines"):
            room = make_visitor(chat.site_fixture, name=name).room
            others.append(Conversation.objects.get(room=room))
        label = Label.objects.create(name="VIP")
    ids = [chat.pk, *(c.pk for c in others), 987_654]
    agent = make_agent(tenant_a)

    assigned = api_a.post_json(
        "/api/v1/conversations/bulk", {"ids": ids, "action": "assign", "member_id": agent.user_id}
    )
    assert assigned.json() == {"changed": 3}
    labelled = api_a.post_json(
        "/api/v1/conversations/bulk", {"ids": ids, "action": "label", "label_id": label.pk}
    )
    assert labelled.json() == {"changed": 3}
    closed = api_a.post_json("/api/v1/conversations/bulk", {"ids": ids, "action": "close"})
    assert closed.json() == {"changed": 3}
    with schema_context(tenant_a.schema_name):
        rows = Conversation.objects.filter(pk__in=ids)
        assert {(c.assignee_id, c.status) for c in rows} == {(agent.user_id, "closed")}
        assert all(list(c.labels.all()) == [label] for c in rows)

    for body in (
        {"ids": [], "action": "close"},
        {"ids": list(range(1, 102)), "action": "close"},
        {"ids": ids, "action": "delete"},
        {"ids": ids, "action": "label"},
    ):
        refused = api_a.post_json("/api/v1/conversations/bulk", body)
        assert (refused.status_code, error_code(refused)) == (400, "bad_request"), body


def test_another_tenants_conversation_label_and_member_are_missing_ones(
    api_a, api_b, tenant_a, tenant_b, chat
):
    agent_of_b = make_agent(tenant_b)
    with schema_context(tenant_a.schema_name):
        label = Label.objects.create(pk=424_242, name="A's label")
    for response in (
        api_b.post(url(chat, "/close")),
        api_b.put(url(chat, f"/labels/{label.pk}")),
        api_b.patch_json(f"/api/v1/labels/{label.pk}", {"name": "Mine"}),
        api_a.put_json(url(chat, "/assignee"), {"member_id": agent_of_b.user_id}),
    ):
        assert (response.status_code, error_code(response)) == (404, "not_found")
    with schema_context(tenant_a.schema_name):
        fresh = Conversation.objects.get(pk=chat.pk)
        assert (fresh.status, fresh.assignee_id) == ("open", None)
        assert Label.objects.get(pk=label.pk).name == "A's label"
