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
