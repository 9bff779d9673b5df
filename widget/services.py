"""Services that change conversations: joining rooms, posting messages, read marks, closing.

Runs inside the tenant's schema: callers wrap calls in `schema_context(tenant.schema_name)` (or
run within a request that django-tenants has already routed to the tenant). Every real-time event
is published by `widget.events` after the transaction commits.
"""

from django.db import IntegrityError, transaction
from django.db.models import F
from django.db.models.functions import Greatest

from core.errors import Forbidden, InvalidToken
from widget import events
from widget.frames import Author
from widget.models import Conversation, Message, Visitor


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

    Writers of one room are serialized by a row lock on the conversation, so message ids are
    committed in increasing order within a room: a client resuming `since` an id it has seen
    cannot miss an older message that committed later.
    """
    if client_id is not None:
        existing = Message.objects.filter(conversation=conversation, client_id=client_id).first()
        if existing is not None:
            return existing, False
    try:
        with transaction.atomic():
            locked = Conversation.objects.select_for_update().get(pk=conversation.pk)
            message = Message.objects.create(
                conversation=conversation,
                client_id=client_id,
                author_kind=author_kind,
                author_id=author_id,
                author_name=author_name,
                text=text,
            )
            Conversation.objects.filter(pk=conversation.pk).update(
                last_message_at=message.created_at, status=Conversation.Status.OPEN
            )
    except IntegrityError:
        # The same client_id raced in through another connection: that one was stored.
        return Message.objects.get(conversation=conversation, client_id=client_id), False
    event = "created" if locked.last_message_at is None else "updated"
    locked.last_message_at = message.created_at
    locked.status = Conversation.Status.OPEN
    if conversation.visitor_id:
        locked.visitor = conversation.visitor
    conversation.last_message_at, conversation.status = locked.last_message_at, locked.status

    def publish() -> None:
        events.publish_message(tenant_id, conversation, message)
        events.publish_conversation(tenant_id, locked, event)

    transaction.on_commit(publish)
    return message, True


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
