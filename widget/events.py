"""The one module that names channel groups. Nothing else spells a group name.

Every group carries the tenant id, so two tenants with a room of the same name never share one.
"""

import re

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

ROOM_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
PRIVATE_ROOM_PREFIX = "cv_"


def room_group(tenant_id: int, room: str) -> str:
    """Members of one room of one tenant: the visitor(s) of that room."""
    return f"t{tenant_id}.room.{room}"


def agents_group(tenant_id: int) -> str:
    """Every agent socket of a tenant: they see every conversation of the tenant."""
    return f"t{tenant_id}.agents"


def site_group(tenant_id: int, site_id: int) -> str:
    """Every visitor socket of one site: told when the site's key stops being valid."""
    return f"t{tenant_id}.site.{site_id}"


def message_frame(message) -> dict:
    """The `message` frame of the wire contract for a stored message."""
    return {
        "type": "message",
        "id": message.id,
        "client_id": message.client_id,
        "text": message.text,
        "ts": message.created_at.isoformat(),
        "author": {
            "kind": message.author_kind,
            "id": message.author_id,
            "name": message.author_name,
        },
    }


def publish_message(tenant_id: int, conversation, message) -> None:
    """Deliver a stored message to the room's members and to the tenant's agents."""
    frame = message_frame(message)
    layer = get_channel_layer()
    send = async_to_sync(layer.group_send)
    send(room_group(tenant_id, conversation.room), {"type": "chat.frame", "frame": frame})
    send(
        agents_group(tenant_id),
        {"type": "chat.frame", "frame": frame | {"conversation": conversation.room}},
    )


CONVERSATION_EVENTS = ("created", "updated", "closed")


def conversation_frame(conversation, event: str) -> dict:
    """The `conversation` frame agents receive when a conversation appears or changes state.

    The conversation is named by its room, as every agent frame names it (`"conversation": room`).
    Reads the conversation's visitor: load it with the conversation (select_related) so that the
    frame can be built after commit without a query.
    """
    visitor = conversation.visitor if conversation.visitor_id else None
    return {
        "type": "conversation",
        "event": event,
        "conversation": {
            "id": conversation.room,
            "site_id": conversation.site_id,
            "kind": conversation.kind,
            "status": conversation.status,
            "visitor": {"id": str(visitor.id), "name": visitor.display_name} if visitor else None,
            "assignee": conversation.assignee_id,
            "created_at": conversation.created_at.isoformat(),
            "last_message_at": (
                conversation.last_message_at.isoformat() if conversation.last_message_at else None
            ),
            "visitor_read_up_to": conversation.visitor_read_up_to,
            "agent_read_up_to": conversation.agent_read_up_to,
        },
    }


def publish_conversation_event(tenant_id: int, conversation, event: str) -> None:
    """Tell every agent socket of the tenant that a conversation was created, updated or closed."""
    if event not in CONVERSATION_EVENTS:
        raise ValueError(f"unknown conversation event: {event!r}")
    async_to_sync(get_channel_layer().group_send)(
        agents_group(tenant_id),
        {"type": "chat.frame", "frame": conversation_frame(conversation, event)},
    )
