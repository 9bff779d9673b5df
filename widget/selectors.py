"""Read-only queries of the tenant schema: the messages of a room, for sockets and APIs.

Like the services, these run inside the tenant's schema (`schema_context`).
"""

from widget.models import Conversation, Message


def messages_latest(*, conversation: Conversation, limit: int) -> tuple[list[Message], bool]:
    """The room's `limit` latest messages, oldest first, and whether older ones exist."""
    newest_first = list(
        Message.objects.filter(conversation=conversation).order_by("-id")[: limit + 1]
    )
    return newest_first[:limit][::-1], len(newest_first) > limit


def messages_after(
    *, conversation: Conversation, after_id: int, limit: int
) -> tuple[list[Message], bool]:
    """Messages after `after_id`, oldest first (a resume), at most `limit`; and whether more
    follow (the client then resumes again from the last one it got)."""
    rows = list(
        Message.objects.filter(conversation=conversation, id__gt=after_id).order_by("id")[
            : limit + 1
        ]
    )
    return rows[:limit], len(rows) > limit


def messages_before(
    *, conversation: Conversation, before_id: int | None, limit: int
) -> tuple[list[Message], bool]:
    """A page of older messages before `before_id` (the newest when None), oldest first."""
    if before_id is None:
        return messages_latest(conversation=conversation, limit=limit)
    newest_first = list(
        Message.objects.filter(conversation=conversation, id__lt=before_id).order_by("-id")[
            : limit + 1
        ]
    )
    return newest_first[:limit][::-1], len(newest_first) > limit


def conversation_for_agent(*, room: str, site_id: int | None) -> Conversation | None:
    """The tenant's conversation an agent names by room (and site, for an ambiguous public
    room name). None when there is none, or when the name is ambiguous without a site."""
    found = Conversation.objects.select_related("visitor").filter(room=room)
    if site_id is not None:
        found = found.filter(site_id=site_id)
    matches = list(found[:2])
    return matches[0] if len(matches) == 1 else None
