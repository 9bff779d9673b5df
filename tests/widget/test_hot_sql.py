"""The plain-SQL statements of the sockets' hot paths (widget.hot_sql) give what the models hold:
the same room and visitor, the same message frames as `frames.message_of`, the same stored
messages, in the tenant's schema only."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from django_tenants.utils import schema_context

from widget import hot_sql
from widget.frames import message_of
from widget.models import Conversation, Message, Visitor

pytestmark = pytest.mark.django_db


def post(conversation: Conversation, text: str, **fields) -> Message:
    return Message.objects.create(
        conversation=conversation,
        text=text,
        author_kind=fields.pop("author_kind", "agent"),
        author_id=fields.pop("author_id", "7"),
        author_name=fields.pop("author_name", "Ada"),
        **fields,
    )


@pytest.fixture
def rooms(tenant_a):
    with schema_context(tenant_a.schema_name):
        grace = Visitor.objects.create(site_id=1, name="Grace")
        other = Visitor.objects.create(site_id=1)
        private = Conversation.objects.create(site_id=1, room="cv_grace", visitor=grace)
        public = Conversation.objects.create(site_id=1, room="lobby", kind="public")
        yield grace, other, private, public


def test_a_private_room_comes_with_its_own_visitor_only(rooms):
    grace, other, private, _ = rooms
    found, visitor = hot_sql.room_with_visitor(
        site_id=1, room="cv_grace", visitor_id=str(grace.id), private=True
    )
    assert (found.pk, found.room, found.kind, found.status) == (
        private.pk,
        "cv_grace",
        "private",
        "open",
    )
    assert visitor == grace
    assert visitor.display_name == "Grace"
    assert found.visitor == grace

    assert hot_sql.room_with_visitor(
        site_id=1, room="cv_grace", visitor_id=str(other.id), private=True
    ) == (None, None)
    assert hot_sql.room_with_visitor(
        site_id=2, room="cv_grace", visitor_id=str(grace.id), private=True
    ) == (None, None)


def test_a_public_room_comes_with_the_joining_visitor_of_the_same_site(rooms):
    grace, _, _, public = rooms
    found, visitor = hot_sql.room_with_visitor(
        site_id=1, room="lobby", visitor_id=str(grace.id), private=False
    )
    assert found.pk == public.pk
    assert visitor == grace

    Visitor.objects.filter(pk=grace.pk).update(site_id=2)  # a visitor of another site
    found, visitor = hot_sql.room_with_visitor(
        site_id=1, room="lobby", visitor_id=str(grace.id), private=False
    )
    assert (found.pk, visitor) == (public.pk, None)
    assert hot_sql.room_with_visitor(
        site_id=1, room="nowhere", visitor_id=str(grace.id), private=False
    ) == (None, None)


def test_another_tenants_schema_has_none_of_it(tenant_b, rooms):
    grace, _, _, _ = rooms
    with schema_context(tenant_b.schema_name):
        assert hot_sql.room_with_visitor(
            site_id=1, room="lobby", visitor_id=str(grace.id), private=False
        ) == (None, None)


def test_latest_frames_are_the_message_frames_of_the_newest_messages(rooms):
    _, _, private, public = rooms
    messages = [post(private, f"m{n}", client_id=f"c{n}" if n % 2 else None) for n in range(4)]
    post(public, "elsewhere")

    frames, has_more = hot_sql.frames_latest(conversation_id=private.pk, limit=3)
    assert frames == [message_of(message) for message in messages[1:]]
    assert has_more is True
    frames, has_more = hot_sql.frames_latest(conversation_id=private.pk, limit=4)
    assert [frame["text"] for frame in frames] == ["m0", "m1", "m2", "m3"]
    assert has_more is False


def test_a_resume_pages_after_since_and_overlaps_only_the_recent_seconds(rooms):
    _, _, private, _ = rooms
    messages = [post(private, f"m{n}") for n in range(6)]
    Message.objects.filter(pk=messages[0].pk).update(created_at=timezone.now() - timedelta(hours=1))

    def texts(after: Message, limit: int, overlap: float):
        frames, has_more = hot_sql.frames_after(
            conversation_id=private.pk, after_id=after.pk, limit=limit, overlap=overlap
        )
        return [frame["text"] for frame in frames], has_more

    assert texts(messages[2], limit=2, overlap=0) == (["m3", "m4"], True)
    assert texts(messages[2], limit=5, overlap=0) == (["m3", "m4", "m5"], False)
    # The overlap: what was stored in the 10 s up to `since`, not the hour-old m0.
    assert texts(messages[2], limit=5, overlap=10) == (["m1", "m2", "m3", "m4", "m5"], False)
    # At most `limit` rows back, however recent.
    assert texts(messages[4], limit=2, overlap=10) == (["m3", "m4", "m5"], False)
    # Frames carry what message_of carries.
    frames, _ = hot_sql.frames_after(
        conversation_id=private.pk, after_id=messages[4].pk, limit=5, overlap=0
    )
    messages[5].refresh_from_db()
    assert frames == [message_of(messages[5])]


def test_the_writers_reads_and_update_under_the_lock(rooms):
    grace, _, private, public = rooms
    stored = post(private, "hi", client_id="c-1", author_kind="visitor", author_id=str(grace.id))
    post(public, "other room", client_id="c-1")

    with transaction.atomic():
        locked = hot_sql.rooms_locked([public.pk, private.pk])
        assert list(locked) == [private.pk, public.pk]  # in id order, as the locks were taken
        assert locked[private.pk].visitor == grace
        assert locked[public.pk].visitor is None
        [known] = hot_sql.messages_with_client_ids([private.pk], ["c-1", "c-2"], [str(grace.id)])
        assert hot_sql.messages_with_client_ids([private.pk], ["c-1"], ["someone else"]) == []
        assert (known.pk, known.text, known.client_id) == (stored.pk, "hi", "c-1")
        assert message_of(known) == message_of(stored)

        room = locked[private.pk]
        room.last_message_at, room.status = stored.created_at, Conversation.Status.CLOSED
        hot_sql.room_touch(room)
    private.refresh_from_db()
    assert (private.last_message_at, private.status) == (stored.created_at, "closed")
    assert hot_sql.rooms_locked([987654]) == {}
