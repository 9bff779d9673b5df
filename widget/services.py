"""Services that change conversations: posting messages.

Runs inside the tenant's schema: callers wrap calls in `schema_context(tenant.schema_name)` (or
run within a request that django-tenants has already routed to the tenant).
"""

from django.db import IntegrityError, transaction

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
