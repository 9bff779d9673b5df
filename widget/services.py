"""Services that change conversations: joining rooms, posting messages, read marks, closing.

Runs inside the tenant's schema: callers wrap calls in `schema_context(tenant.schema_name)` (or
run within a request that django-tenants has already routed to the tenant). Every real-time event
is published by `widget.events` after the transaction commits.
"""

from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import F
from django.db.models.functions import Greatest

from core.errors import BadRequest, Forbidden, InvalidToken
from widget import events
from widget.frames import Author
from widget.models import Conversation, Message, Visitor


@dataclass(frozen=True)
class MessagePost:
    """One message to store (see `message_post`)."""

    conversation: Conversation
    text: str
    author_kind: str
    author_id: str = ""
    author_name: str = ""
    client_id: str | None = None


def message_post(
    *,
    tenant_id: int,
    conversation: Conversation,
    text: str,
    author_kind: str,
    author_id: str = "",
    author_name: str = "",
    client_id: str | None = None,
) -> tuple[Message, bool]:
    """Store a message and publish it to the room and the tenant's agents after commit.

    A `client_id` seen before in the same room returns the stored message and publishes nothing
    again: a resend after a reconnect is stored and broadcast once. Returns (message, created).
    """
    post = MessagePost(conversation, text, author_kind, author_id, author_name, client_id)
    return message_post_many(tenant_id=tenant_id, posts=[post])[0]


def message_post_many(*, tenant_id: int, posts: list[MessagePost]) -> list[tuple[Message, bool]]:
    """`message_post` for several messages in one transaction, answered in order.

    The sockets batch the messages that arrive while the database is busy (widget.writer): one
    commit (one disk flush) then serves them all.

    Writers of a room are serialized by a row lock on its conversation (taken in id order, so
    batches cannot deadlock), so message ids are committed in increasing order within a room:
    a client resuming `since` an id it has seen cannot miss an older message committed later.
    Under the lock, the `client_id`s already stored are visible, so a resend is never inserted.
    """
    try:
        with transaction.atomic():
            return _store(tenant_id, posts)
    except IntegrityError:
        if len(posts) > 1:
            # A writer that does not take the room lock raced in: settle the posts one by one.
            return [message_post_many(tenant_id=tenant_id, posts=[post])[0] for post in posts]
        post = posts[0]
        stored = Message.objects.get(conversation=post.conversation, client_id=post.client_id)
        return [(stored, False)]


def _store(tenant_id: int, posts: list[MessagePost]) -> list[tuple[Message, bool]]:
    room_ids = sorted({post.conversation.pk for post in posts})
    rooms = {
        room.pk: room
        for room in Conversation.objects.select_for_update(of=("self",))
        .select_related("visitor")
        .filter(pk__in=room_ids)
        .order_by("pk")
    }
    if len(rooms) < len(room_ids):
        raise BadRequest("This conversation no longer exists.")
    client_ids = {post.client_id for post in posts if post.client_id is not None}
    known = {
        (message.conversation_id, message.client_id): message
        for message in Message.objects.filter(
            conversation_id__in=room_ids, client_id__in=client_ids
        )
    }
    answers: list[tuple[Message, bool]] = []
    fresh: list[Message] = []
    for post in posts:
        key = (post.conversation.pk, post.client_id)
        if post.client_id is not None and key in known:
            answers.append((known[key], False))
            continue
        message = Message(
            conversation=rooms[post.conversation.pk],
            client_id=post.client_id,
            author_kind=post.author_kind,
            author_id=post.author_id,
            author_name=post.author_name,
            text=post.text,
        )
        fresh.append(message)
        if post.client_id is not None:
            known[key] = message  # the same client_id twice in one batch: stored once
        answers.append((message, True))
    if not fresh:
        return answers
    Message.objects.bulk_create(fresh)  # ids in list order: increasing within each room

    room_events = []
    for room_id in room_ids:
        room = rooms[room_id]
        newest = [message for message in fresh if message.conversation_id == room_id]
        if not newest:
            continue
        event = "created" if room.last_message_at is None else "updated"
        room.last_message_at, room.status = newest[-1].created_at, Conversation.Status.OPEN
        Conversation.objects.filter(pk=room_id).update(
            last_message_at=room.last_message_at, status=room.status
        )
        room_events.append((room, event))
    for post in posts:
        room = rooms[post.conversation.pk]
        post.conversation.last_message_at, post.conversation.status = (
            room.last_message_at,
            room.status,
        )

    def publish() -> None:
        for message in fresh:
            events.publish_message(tenant_id, message.conversation, message)
        for room, event in room_events:
            events.publish_conversation(tenant_id, room, event)

    transaction.on_commit(publish)
    return answers


def chat_join(*, site_id: int, room: str, visitor_id: str, token_room: str, public_rooms: bool):
    """The conversation a visitor's socket joins, and the visitor (None if erased).

    A private room (`cv_…`) must be the token's own conversation; any other name is a public
    room, joined (and created on first use) only where the site allows public rooms.
    """
    if events.is_private_room(room):
        if room != token_room:
            raise Forbidden("This token may not join this conversation.")
        conversation = (
            Conversation.objects.select_related("visitor")
            .filter(site_id=site_id, room=room, visitor_id=visitor_id)
            .first()
        )
        if conversation is None:
            raise InvalidToken("This conversation no longer exists; start a new session.")
        return conversation, conversation.visitor
    if not public_rooms:
        raise Forbidden("This site has no public rooms.")
    visitor = Visitor.objects.filter(pk=visitor_id, site_id=site_id).first()
    conversation, _ = Conversation.objects.get_or_create(
        site_id=site_id, room=room, defaults={"kind": Conversation.Kind.PUBLIC}
    )
    return conversation, visitor


def conversation_mark_read(
    *, tenant_id: int, conversation: Conversation, reader: Author, up_to: int, sender: str = ""
) -> None:
    """Store how far the visitor or the agents have read (a mark never moves back) and tell the
    room's other members and the agents."""
    field = "visitor_read_up_to" if reader["kind"] == "visitor" else "agent_read_up_to"
    Conversation.objects.filter(pk=conversation.pk).update(**{field: Greatest(F(field), up_to)})
    transaction.on_commit(
        lambda: events.publish_read(
            tenant_id, conversation, author=reader, up_to=up_to, sender=sender
        )
    )


def conversation_close(*, tenant_id: int, conversation: Conversation) -> None:
    """Close a conversation (it reopens with its next message) and tell the agents."""
    Conversation.objects.filter(pk=conversation.pk).update(status=Conversation.Status.CLOSED)
    conversation.status = Conversation.Status.CLOSED
    snapshot = _snapshot(conversation)
    transaction.on_commit(lambda: events.publish_conversation(tenant_id, snapshot, "closed"))


def conversation_created(*, tenant_id: int, conversation: Conversation) -> None:
    """Tell the agents about a conversation just created (the widget session endpoint)."""
    snapshot = _snapshot(conversation)
    transaction.on_commit(lambda: events.publish_conversation(tenant_id, snapshot, "created"))


def _snapshot(conversation: Conversation) -> Conversation:
    """A copy of the conversation as it is now, for an event published after commit: later
    changes to the caller's instance must not change what the event says."""
    if conversation.visitor_id:
        conversation.visitor  # noqa: B018 - load it now, inside the tenant's schema
    copy = Conversation(
        **{f.attname: getattr(conversation, f.attname) for f in Conversation._meta.concrete_fields}
    )
    if conversation.visitor_id:
        copy.visitor = conversation.visitor
    return copy
