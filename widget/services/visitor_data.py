"""A visitor's own data, as they may ask for it (GDPR's right of access): everything Parley
keeps about them in one JSON document, from the dashboard (the conversation's visitor panel)
and the site-key API (`GET /api/v1/visitors/{id}/export`). Erasure is
`widget.services.erasure.visitor_erase`.

The document holds the visitor's record (what their browser reported, what they told the
pre-chat form, their attributes), each of their conversations with every message in it (the
team's private notes included and marked: they are data about the visitor too), their ratings,
the files they sent or were sent (described, with no link: a link would outlive the export's
purpose), and what they wrote in public rooms. Runs in the tenant's schema."""

import uuid
from datetime import UTC, datetime

from django.db.models import Model

from widget.models import Attachment, Conversation, Message, Rating, Visitor

VISITOR_FIELDS = (
    "id", "external_id", "name", "email", "page_url", "page_title", "referrer", "locale",
    "time_zone", "user_agent", "browser", "os", "device", "country", "city", "attributes",
    "email_unsubscribed_at", "prechat_answers", "prechat_at", "first_seen_at", "last_seen_at",
)  # fmt: skip
MESSAGE_FIELDS = ("id", "author_kind", "author_name", "text", "private", "created_at")
ATTACHMENT_FIELDS = ("id", "name", "content_type", "size", "created_at")


def _plain(value):
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def _fields(row: Model, names: tuple[str, ...]) -> dict:
    return {name: _plain(getattr(row, name)) for name in names}


def visitor_export(*, visitor: Visitor) -> dict:
    ratings = {
        rating.conversation_id: {"score": rating.score, "comment": rating.comment}
        for rating in Rating.objects.filter(conversation__visitor=visitor)
    }
    conversations = []
    for conversation in Conversation.objects.filter(visitor=visitor).order_by("created_at"):
        messages = Message.objects.filter(conversation=conversation).order_by("id")
        conversations.append(
            {
                "id": conversation.pk,
                "status": conversation.status,
                "created_at": _plain(conversation.created_at),
                "last_message_at": _plain(conversation.last_message_at),
                "rating": ratings.get(conversation.pk),
                "messages": [_fields(message, MESSAGE_FIELDS) for message in messages],
            }
        )
    public = Message.objects.filter(
        author_kind=Message.AuthorKind.VISITOR,
        author_id=str(visitor.id),
        conversation__kind=Conversation.Kind.PUBLIC,
    ).select_related("conversation")
    files = Attachment.objects.filter(conversation__visitor=visitor).order_by("created_at")
    return {
        "exported_at": datetime.now(UTC).isoformat(),
        "visitor": _fields(visitor, VISITOR_FIELDS),
        "conversations": conversations,
        "public_room_messages": [
            {"room": message.conversation.room, **_fields(message, MESSAGE_FIELDS)}
            for message in public.order_by("id")
        ],
        "files": [_fields(attachment, ATTACHMENT_FIELDS) for attachment in files],
    }
