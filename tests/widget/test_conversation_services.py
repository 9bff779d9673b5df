"""Conversations as the agents' list sees them: created by their first message (not by the
widget session), waiting and snoozing kept by the message writer, labels, snooze and bulk
actions told to the agents with what the list shows."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from accounts.models import User
from core.errors import BadRequest
from tenants import site_directory
from tenants.models import WebhookDelivery
from tenants.selectors import site_current_key
from tenants.services import webhook_create
from tests.support.factories import make_site
from widget import events
from widget.models import Conversation, Label, Message
from widget.services.conversations import (
    conversation_close,
    conversation_label_add,
    conversation_label_remove,
    conversation_mark_read,
    conversation_snooze,
    conversation_unsnooze,
    conversations_bulk,
)
from widget.services.labels import label_create, label_delete, label_update
from widget.services.messages import _wait_and_wake, message_post
from widget.services.sessions import visitor_session_start

pytestmark = pytest.mark.django_db


@pytest.fixture
def told(monkeypatch):
    """The `conversation` frames the agents are told, as (event, summary)."""
    frames = []
    monkeypatch.setattr(
        events,
        "publish_conversation",
        lambda tenant_id, conversation, event: frames.append(
            (event, events.frames.conversation_summary(conversation))
        ),
    )
    return frames


@pytest.fixture
def site(tenant_a):
    return make_site(tenant_a)


@pytest.fixture
def room(tenant_a, site):
    with schema_context(tenant_a.schema_name):
        yield Conversation.objects.create(room="cv_list1", site_id=site.site.id)


def say(tenant, conversation, text, kind="visitor", **fields):
    message, _ = message_post(
        tenant_id=tenant.id, conversation=conversation, text=text, author_kind=kind, **fields
    )
    return message


def test_a_session_is_no_conversation_until_something_is_said(
    tenant_a, site, told, django_capture_on_commit_callbacks
):
    webhook_create(
        tenant=tenant_a, url="https://hooks.example.com/", events=["conversation.created"]
    )
    info = site_directory.site_for_key(site_current_key(site.site).key)
    with django_capture_on_commit_callbacks(execute=True):
        session = visitor_session_start(site=info)
    assert told == []
    assert not WebhookDelivery.objects.filter(event_type="conversation.created").exists()

    with schema_context(tenant_a.schema_name), django_capture_on_commit_callbacks(execute=True):
        say(tenant_a, session.conversation, "Hello?")
        say(tenant_a, session.conversation, "Anyone?")
    assert [event for event, _ in told] == ["created", "updated"]
    assert told[1][1]["unread"] == 2
    created = WebhookDelivery.objects.filter(event_type="conversation.created")
    assert created.count() == 1


def test_a_visitors_message_wakes_a_snooze_and_starts_the_wait_an_answer_ends_it(
    tenant_a, room, told, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = say(tenant_a, room, "Hi")
        conversation_snooze(
            tenant_id=tenant_a.id, conversation=room, until=timezone.now() + timedelta(hours=2)
        )
    room.refresh_from_db()
    assert room.snoozed_until is not None
    assert room.waiting_since == first.created_at
    assert told[-1][1]["snoozed_until"] == room.snoozed_until.isoformat()

    with django_capture_on_commit_callbacks(execute=True):
        say(tenant_a, room, "Still there?")
    room.refresh_from_db()
    assert room.snoozed_until is None
    assert room.waiting_since == first.created_at  # the wait started with the first question
    assert told[-1][1]["snoozed_until"] is None

    say(tenant_a, room, "On it", kind="agent", author_id="1")
    room.refresh_from_db()
    assert room.waiting_since is None


def test_the_writer_keeps_the_newest_visitor_message_for_the_unread_comparison(tenant_a, room):
    """`Conversation.with_unread` compares two columns: the writer keeps the first of them."""
    question = say(tenant_a, room, "Hi")
    say(tenant_a, room, "Hello!", kind="agent", author_id="1")
    room.refresh_from_db()
    assert room.last_visitor_message_id == question.id
    with schema_context(tenant_a.schema_name):
        assert Conversation.objects.filter(Conversation.with_unread(), pk=room.pk).exists()
        Conversation.objects.filter(pk=room.pk).update(agent_read_up_to=question.id)
        assert not Conversation.objects.filter(Conversation.with_unread(), pk=room.pk).exists()


def test_a_private_note_is_no_answer_and_a_system_notice_changes_nothing():
    """The notes' writer (a `private` message) goes through the same rule as every message."""
    since = timezone.now()
    room = Conversation(waiting_since=since, snoozed_until=since + timedelta(hours=1))
    _wait_and_wake(
        room,
        [
            Message(author_kind="agent", private=True, created_at=since),
            Message(author_kind="system", created_at=since),
        ],
    )
    assert (room.waiting_since, room.snoozed_until) == (since, since + timedelta(hours=1))
    _wait_and_wake(room, [Message(author_kind="agent", created_at=since)])
    assert room.waiting_since is None


def test_labels_on_a_conversation_are_told_with_its_unread_count(
    tenant_a, room, told, django_capture_on_commit_callbacks
):
    with schema_context(tenant_a.schema_name):
        billing = label_create(name="Billing", color="#2563EB")
        bug = label_create(name="bug")
        say(tenant_a, room, "one")
        say(tenant_a, room, "two")
        with django_capture_on_commit_callbacks(execute=True):
            conversation_label_add(tenant_id=tenant_a.id, conversation=room, label=billing)
            conversation_label_add(tenant_id=tenant_a.id, conversation=room, label=bug)
        assert told[-1][1]["labels"] == [
            {"id": billing.id, "name": "Billing", "color": "#2563eb"},
            {"id": bug.id, "name": "bug", "color": "#64748b"},
        ]
        assert told[-1][1]["unread"] == 2
        latest = room.messages.order_by("-id").first()
        conversation_mark_read(
            tenant_id=tenant_a.id,
            conversation=room,
            reader={"kind": "agent", "id": "1", "name": "Ada"},
            up_to=latest.id,
        )
        with django_capture_on_commit_callbacks(execute=True):
            conversation_label_remove(tenant_id=tenant_a.id, conversation=room, label=billing)
        assert [label["name"] for label in told[-1][1]["labels"]] == ["bug"]
        assert told[-1][1]["unread"] == 0
        # the message writer tells the same
        with django_capture_on_commit_callbacks(execute=True):
            say(tenant_a, room, "three")
        assert told[-1][1]["labels"][0]["name"] == "bug"
        assert told[-1][1]["unread"] == 1


def test_labels_are_named_once_whatever_the_case_with_a_real_colour(tenant_a):
    with schema_context(tenant_a.schema_name):
        label = label_create(name="  Needs   reply ", color="#AbCdEf")
        assert (label.name, label.color) == ("Needs reply", "#abcdef")
        with pytest.raises(BadRequest, match="exists already"):
            label_create(name="needs REPLY")
        for name, color in [("", "#000000"), ("x" * 51, "#000000"), ("ok", "red")]:
            with pytest.raises(BadRequest):
                label_create(name=name, color=color)
        other = label_create(name="Other")
        with pytest.raises(BadRequest, match="exists already"):
            label_update(label=other, name="needs reply")
        assert label_update(label=other, color="#111111").color == "#111111"
        label_delete(label=other)
        assert list(Label.objects.values_list("name", flat=True)) == ["Needs reply"]


def test_a_snooze_needs_a_future_time_and_an_open_conversation(tenant_a, room):
    with pytest.raises(BadRequest, match="future"):
        conversation_snooze(
            tenant_id=tenant_a.id, conversation=room, until=timezone.now() - timedelta(minutes=1)
        )
    say(tenant_a, room, "Hi")
    conversation_close(tenant_id=tenant_a.id, conversation=room)
    with pytest.raises(BadRequest, match="open"):
        conversation_snooze(
            tenant_id=tenant_a.id, conversation=room, until=timezone.now() + timedelta(hours=1)
        )
    unsnoozed = conversation_unsnooze(tenant_id=tenant_a.id, conversation=room)
    assert unsnoozed.snoozed_until is None


def test_bulk_actions_change_every_chosen_conversation(
    tenant_a, site, told, django_capture_on_commit_callbacks
):
    with schema_context(tenant_a.schema_name):
        ada = User.objects.create_user(email="ada@example.com", password="pw-long-enough-1")
        rooms = [
            Conversation.objects.create(room=f"cv_bulk{n}", site_id=site.site.id) for n in range(3)
        ]
        label = label_create(name="vip")
        ids = [rooms[0].id, rooms[1].id, 987654]
        with django_capture_on_commit_callbacks(execute=True):
            done = conversations_bulk(
                tenant_id=tenant_a.id, conversation_ids=ids, action="assign", assignee=ada
            )
        assert done == 2
        assert [event for event, _ in told] == ["updated", "updated"]
        assert {summary["assignee"] for _, summary in told} == {ada.id}
        conversations_bulk(tenant_id=tenant_a.id, conversation_ids=ids, action="label", label=label)
        conversations_bulk(tenant_id=tenant_a.id, conversation_ids=ids, action="close")
        assert sorted(Conversation.objects.filter(labels=label).values_list("room", flat=True)) == [
            "cv_bulk0",
            "cv_bulk1",
        ]
        assert list(
            Conversation.objects.filter(status="closed")
            .order_by("room")
            .values_list("room", flat=True)
        ) == ["cv_bulk0", "cv_bulk1"]
        conversations_bulk(
            tenant_id=tenant_a.id, conversation_ids=ids, action="assign", assignee=None
        )
        assert not Conversation.objects.filter(assignee__isnull=False).exists()
        for bad in [
            {"conversation_ids": [], "action": "close"},
            {"conversation_ids": list(range(1, 102)), "action": "close"},
            {"conversation_ids": ids, "action": "label"},
            {"conversation_ids": ids, "action": "delete"},
        ]:
            with pytest.raises(BadRequest):
                conversations_bulk(tenant_id=tenant_a.id, **bad)
        assert rooms[2].status == "open"
