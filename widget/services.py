"""Services that change conversations: posting messages, closing, reopening, assigning.

Runs inside the tenant's schema: callers wrap calls in `schema_context(tenant.schema_name)` (or
run within a request that django-tenants has already routed to the tenant).
"""

from django.db import IntegrityError, transaction
from django.db.models import F
from django.db.models.functions import Greatest

from core.errors import BadRequest
from widget import events
from widget.models import Conversation, Message


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
    if client_id is not None:
        existing = Message.objects.filter(conversation=conversation, client_id=client_id).first()
        if existing is not None:
            return existing, False
    try:
        with transaction.atomic():
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
    transaction.on_commit(lambda: events.publish_message(tenant_id, conversation, message))
    return message, True


def _publish_after_commit(tenant_id: int, conversation: Conversation, event: str) -> Conversation:
    """Reload the conversation with what its frame names, and tell the agents after commit.

    Loaded now, while the connection is certainly in the tenant's schema: the commit hook may run
    after the caller's schema_context has ended, and must not query.
    """
    fresh = Conversation.objects.select_related("visitor").get(pk=conversation.pk)
    transaction.on_commit(lambda: events.publish_conversation_event(tenant_id, fresh, event))
    return fresh


@transaction.atomic
def conversation_close(*, tenant_id: int, conversation: Conversation) -> Conversation:
    """Close a conversation. A new message from either side opens it again (message_post)."""
    Conversation.objects.filter(pk=conversation.pk).update(status=Conversation.Status.CLOSED)
    return _publish_after_commit(tenant_id, conversation, "closed")


@transaction.atomic
def conversation_reopen(*, tenant_id: int, conversation: Conversation) -> Conversation:
    Conversation.objects.filter(pk=conversation.pk).update(status=Conversation.Status.OPEN)
    return _publish_after_commit(tenant_id, conversation, "updated")


@transaction.atomic
def conversation_assign(*, tenant_id: int, conversation: Conversation, assignee) -> Conversation:
    """Give the conversation to a member of the team, or to nobody (`assignee=None`)."""
    if assignee is not None and not assignee.is_active:
        raise BadRequest("Only an active member of the team can be assigned.")
    Conversation.objects.filter(pk=conversation.pk).update(assignee=assignee)
    return _publish_after_commit(tenant_id, conversation, "updated")


def conversation_mark_read(
    *, tenant_id: int, conversation: Conversation, reader: dict, up_to: int, sender: str = ""
) -> None:
    """Store how far the visitor or the agents (`reader["kind"]`) have read; a mark never moves
    back. Live read receipts are the sockets' (`read` frames)."""
    field = "visitor_read_up_to" if reader["kind"] == "visitor" else "agent_read_up_to"
    Conversation.objects.filter(pk=conversation.pk).update(**{field: Greatest(F(field), up_to)})
