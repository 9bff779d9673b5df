"""The chat's outbound webhook events: `conversation.created`, `message.created`,
`conversation.closed` and `conversation.rated`, in the site-key API's shapes
(`widget.site_api.schemas`).

The chat's services call these inside the transaction that makes the change, so each delivery
is committed with it (`tenants.webhooks` queues one signed delivery per subscribed endpoint and
knows nothing of what the payload says).
"""

from tenants.models import Webhook
from tenants.webhooks import WebhookEvent, webhook_deliveries_erase, webhook_events_enqueue
from widget.frames import message_of
from widget.models import Message
from widget.site_api.schemas import ConversationOut, MessageOut


def _conversation_data(conversation) -> dict:
    return ConversationOut.from_orm(conversation).model_dump(mode="json")


def _visitor_of(conversation) -> str:
    return str(conversation.visitor_id) if conversation.visitor_id else ""


def _message_subject(message) -> str:
    """The visitor whose data a message's event carries: the conversation's (its name and
    email are in it), or in a public room the visitor who wrote it."""
    if message.conversation.visitor_id:
        return _visitor_of(message.conversation)
    return message.author_id if message.author_kind == Message.AuthorKind.VISITOR else ""


def _message_created(message) -> WebhookEvent:
    return WebhookEvent(
        Webhook.Event.MESSAGE_CREATED,
        lambda: {
            "conversation": _conversation_data(message.conversation),
            "message": MessageOut.model_validate(message_of(message)).model_dump(mode="json"),
        },
        subject=_message_subject(message),
    )


def enqueue_messages_created(tenant_id: int, messages) -> None:
    """For `widget.services.messages`: the messages just inserted, each with its conversation
    (as stored by the same transaction)."""
    webhook_events_enqueue(tenant_id=tenant_id, events=map(_message_created, messages))


def enqueue_conversation_created(tenant_id: int, conversation) -> None:
    webhook_events_enqueue(
        tenant_id=tenant_id,
        events=[
            WebhookEvent(
                Webhook.Event.CONVERSATION_CREATED,
                lambda: {"conversation": _conversation_data(conversation)},
                subject=_visitor_of(conversation),
            )
        ],
    )


def enqueue_conversation_closed(tenant_id: int, conversation) -> None:
    webhook_events_enqueue(
        tenant_id=tenant_id,
        events=[
            WebhookEvent(
                Webhook.Event.CONVERSATION_CLOSED,
                lambda: {"conversation": _conversation_data(conversation)},
                subject=_visitor_of(conversation),
            )
        ],
    )


def enqueue_conversation_rated(tenant_id: int, conversation) -> None:
    """The conversation as the API shows it, its `rating` included."""
    webhook_events_enqueue(
        tenant_id=tenant_id,
        events=[
            WebhookEvent(
                Webhook.Event.CONVERSATION_RATED,
                lambda: {"conversation": _conversation_data(conversation)},
                subject=_visitor_of(conversation),
            )
        ],
    )


def erase_visitor(tenant_id: int, visitor_id: str) -> None:
    """For `widget.services.erasure`: the visitor's name, email and words leave every webhook
    delivery Parley keeps, and those not sent yet are not sent."""
    webhook_deliveries_erase(tenant_id=tenant_id, subject=visitor_id)
