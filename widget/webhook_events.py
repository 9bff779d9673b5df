"""The chat's outbound webhook events: `conversation.created`, `message.created` and
`conversation.closed`, in the site-key API's shapes (`widget.site_api.schemas`).

The chat's services call these after the change commits; `tenants.webhooks` queues one signed
delivery per subscribed endpoint and knows nothing of what the payload says.
"""

from tenants.models import Webhook
from tenants.webhooks import webhook_event_enqueue
from widget.frames import message_of
from widget.site_api.schemas import ConversationOut, MessageOut


def _conversation_data(conversation) -> dict:
    return ConversationOut.from_orm(conversation).model_dump(mode="json")


def on_message_created(tenant_id: int, conversation, message) -> None:
    """Hook for `widget.services.messages.message_post`: call it after the message is committed."""
    webhook_event_enqueue(
        tenant_id=tenant_id,
        event_type=Webhook.Event.MESSAGE_CREATED,
        build_data=lambda: {
            "conversation": _conversation_data(conversation),
            "message": MessageOut.model_validate(message_of(message)).model_dump(mode="json"),
        },
    )


def on_conversation_created(tenant_id: int, conversation) -> None:
    webhook_event_enqueue(
        tenant_id=tenant_id,
        event_type=Webhook.Event.CONVERSATION_CREATED,
        build_data=lambda: {"conversation": _conversation_data(conversation)},
    )


def on_conversation_closed(tenant_id: int, conversation) -> None:
    webhook_event_enqueue(
        tenant_id=tenant_id,
        event_type=Webhook.Event.CONVERSATION_CLOSED,
        build_data=lambda: {"conversation": _conversation_data(conversation)},
    )
