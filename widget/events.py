"""The one module that names groups and publishes real-time events. Nothing else spells a group
name or sends a frame to more than one socket.

Every group carries the tenant id, so two tenants with a room of the same name never share one;
room groups also carry the site, because public room names are unique per site. Each publish
serializes its frame once (orjson) and hands it to the fan-out (`widget.fanout.hub`), which writes
that same text to every member socket in every process.

Services call these functions from `transaction.on_commit`: a frame never announces a row that
could still be rolled back. See docs/REALTIME.md.
"""

import re

import orjson

from widget import frames
from widget.fanout.envelope import CLOSE, FRAME, Envelope
from widget.fanout.hub import hub

ROOM_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
PRIVATE_ROOM_PREFIX = "cv_"
# The close code of an agent socket whose member's access changed (PROTOCOL.md, Agent socket).
ACCESS_CHANGED = 4410


def room_group(tenant_id: int, site_id: int, room: str) -> str:
    """The visitor sockets of one room (a private conversation or a public room)."""
    return f"t{tenant_id}.s{site_id}.room.{room}"


def agents_group(tenant_id: int) -> str:
    """Every agent socket of a tenant: they see every conversation of the tenant."""
    return f"t{tenant_id}.agents"


def member_group(tenant_id: int, user_id: int | str) -> str:
    """Every agent socket of one member of the team: closed when their access changes."""
    return f"t{tenant_id}.member.{user_id}"


def site_group(tenant_id: int, site_id: int) -> str:
    """Every visitor socket of one site: closed when the site's keys are revoked."""
    return f"t{tenant_id}.site.{site_id}"


def visitors_group(tenant_id: int) -> str:
    """Every visitor socket of a tenant, all its sites: told when the agents' presence changes
    (every agent answers every site of the tenant)."""
    return f"t{tenant_id}.visitors"


def is_private_room(room: str) -> bool:
    return room.startswith(PRIVATE_ROOM_PREFIX)


def _send(group: str, frame: dict, *, exclude: str = "", message_id: int = 0) -> None:
    text = orjson.dumps(frame).decode()
    hub.publish(
        Envelope(
            group, FRAME, text, exclude=exclude, message_id=message_id, frame_type=frame["type"]
        )
    )


def _to_room_and_agents(
    tenant_id: int, conversation, frame: dict, *, exclude: str = "", message_id: int = 0
) -> None:
    room = conversation.room
    _send(
        room_group(tenant_id, conversation.site_id, room),
        frame,
        exclude=exclude,
        message_id=message_id,
    )
    _send(
        agents_group(tenant_id),
        frames.in_conversation(frame, room),
        exclude=exclude,
        message_id=message_id,
    )


def publish_message(tenant_id: int, conversation, message) -> None:
    """Deliver a stored message to the room's members (its sender included) and the agents.
    A private note goes to the agents alone: the room's group never carries it."""
    frame = frames.message_of(message)
    agents_frame = frames.for_agents(frame, conversation.room)
    if not message.private:
        _send(
            room_group(tenant_id, conversation.site_id, conversation.room),
            frame,
            message_id=message.id,
        )
    _send(agents_group(tenant_id), agents_frame, message_id=message.id)


def publish_typing(
    tenant_id: int,
    conversation,
    *,
    author: frames.Author,
    state: bool,
    sender: str,
    draft: str = "",
) -> None:
    """Typing is not stored: straight to the other members of the room and to the agents.

    A visitor's `draft` (the typing preview of a site that enables it) goes to the agents alone:
    the room's other members, other visitors of a public room among them, never see it.
    """
    frame = frames.typing(author=author, state=state)
    if not draft:
        _to_room_and_agents(tenant_id, conversation, frame, exclude=sender)
        return
    room = conversation.room
    _send(room_group(tenant_id, conversation.site_id, room), frame, exclude=sender)
    preview = frames.typing(author=author, state=state, draft=draft)
    _send(agents_group(tenant_id), frames.in_conversation(preview, room), exclude=sender)


def publish_visitor(tenant_id: int, conversation, visitor) -> None:
    """Tell the tenant's agents what is known of a conversation's visitor now (they navigated,
    or started a session): the conversation page's side panel follows."""
    _send(
        agents_group(tenant_id),
        frames.visitor(room=conversation.room, site_id=conversation.site_id, visitor=visitor),
    )


def publish_read(
    tenant_id: int, conversation, *, author: frames.Author, up_to: int, sender: str
) -> None:
    frame = frames.read(author=author, up_to=up_to)
    _to_room_and_agents(tenant_id, conversation, frame, exclude=sender)


def publish_conversation(tenant_id: int, conversation, event: str) -> None:
    """Tell the tenant's agents a conversation was created, updated or closed; a private
    conversation's visitor is told it was closed too (the widget then asks for a rating)."""
    _send(agents_group(tenant_id), frames.conversation(event=event, conversation=conversation))
    if event == "closed" and is_private_room(conversation.room):
        _send(room_group(tenant_id, conversation.site_id, conversation.room), frames.CLOSED)


def publish_presence(tenant_id: int, frame: frames.PresenceOut) -> None:
    """Tell every visitor socket of the tenant that its agents are now online, away or offline
    (`widget.availability.presence_announce`)."""
    _send(visitors_group(tenant_id), frame)


def close_site_sockets(tenant_id: int, site_id: int, code: int = 4403) -> None:
    """Close every socket of the site, on every worker: 4403 when its keys were revoked or it
    was deleted, 4423 when its tenant was suspended.

    Called by `widget.receivers` after the change commits. Sockets of a key that expires after a
    rotation close on their own at the expiry (the consumer watches it).
    """
    hub.publish(Envelope(site_group(tenant_id, site_id), CLOSE, str(code)))


def close_member_sockets(tenant_id: int, user_id: int) -> None:
    """Close every agent socket of the member, on every worker, with 4410 (they signed out, were
    removed, got another role or a new password). Called by `widget.receivers` after the change
    commits; a session that ends without an event (it expires) is found by each socket's own
    re-check (`AgentConsumer.watch`)."""
    hub.publish(Envelope(member_group(tenant_id, user_id), CLOSE, str(ACCESS_CHANGED)))
