"""Read-only queries of a tenant's conversations, for sockets, APIs and the inbox.

Like the services, these run inside the tenant's schema (`schema_context`).
"""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Avg, Count, F, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce

from core.errors import NotFound
from widget.canned_variables import conversation_values, variables_fill
from widget.models import CannedReply, Conversation, Label, Message, Rating, Visitor


def _readable(conversation: Conversation, with_private: bool) -> QuerySet[Message]:
    """The room's messages a reader may see: private notes only for the team (`with_private`),
    never for a visitor."""
    messages = Message.objects.filter(conversation=conversation)
    return messages if with_private else messages.filter(private=False)


def messages_latest(
    *, conversation: Conversation, limit: int, with_private: bool = False
) -> tuple[list[Message], bool]:
    """The room's `limit` latest messages, oldest first, and whether older ones exist."""
    newest_first = list(_readable(conversation, with_private).order_by("-id")[: limit + 1])
    return newest_first[:limit][::-1], len(newest_first) > limit


def messages_before(
    *, conversation: Conversation, before_id: int | None, limit: int, with_private: bool = False
) -> tuple[list[Message], bool]:
    """A page of older messages before `before_id` (the newest when None), oldest first."""
    if before_id is None:
        return messages_latest(conversation=conversation, limit=limit, with_private=with_private)
    older = _readable(conversation, with_private).filter(id__lt=before_id)
    newest_first = list(older.order_by("-id")[: limit + 1])
    return newest_first[:limit][::-1], len(newest_first) > limit


def conversation_for_agent(*, room: str, site_id: int | None) -> Conversation | None:
    """The tenant's conversation an agent names by room (and site, for an ambiguous public
    room name). None when there is none, or when the name is ambiguous without a site."""
    found = Conversation.objects.select_related("visitor").filter(room=room)
    if site_id is not None:
        found = found.filter(site_id=site_id)
    matches = list(found[:2])
    return matches[0] if len(matches) == 1 else None


def conversation_list(*, site_id: int | None = None, status: str | None = None) -> QuerySet:
    conversations = Conversation.objects.select_related("visitor")
    if site_id is not None:
        conversations = conversations.filter(site_id=site_id)
    if status is not None:
        conversations = conversations.filter(status=status)
    return conversations


def conversation_get(*, conversation_id: int) -> Conversation:
    conversation = conversation_list().filter(pk=conversation_id).first()
    if conversation is None:
        raise NotFound("No conversation has this id.")
    return conversation


def message_list(*, conversation: Conversation) -> QuerySet:
    return Message.objects.filter(conversation=conversation)


def visitor_get(*, visitor_id: str) -> Visitor:
    visitor = Visitor.objects.filter(pk=visitor_id).first()
    if visitor is None:
        raise NotFound("No visitor has this id.")
    return visitor


# --- The widget's "Your conversations" (GET /api/widget/v1/conversations) -------------------

VISITOR_CONVERSATIONS_SHOWN = 50


@dataclass(frozen=True)
class VisitorConversation:
    """One row of the visitor's list: what they need to pick a conversation again."""

    conversation: Conversation
    last_message: Message
    attachment_count: int  # the last message's files
    agent_name: str  # the last agent who answered ("" when none has yet)
    unread: int  # agents' messages past the visitor's read mark


def visitor_conversations(
    *, site_id: int, visitor_id: str, limit: int = VISITOR_CONVERSATIONS_SHOWN
) -> tuple[list[VisitorConversation], bool]:
    """The visitor's private conversations on the site where something was said, most recently
    active first, and whether older ones exist. Two queries whatever the count: the
    conversations with their last message's id, last agent and unread count (each a look along
    the room's index), then those messages. Private notes are never a preview, an agent's name
    or an unread message: they are the team's own."""
    public = Message.objects.filter(conversation=OuterRef("pk"), private=False)
    agents = public.filter(author_kind=Message.AuthorKind.AGENT)
    unread = (
        agents.filter(id__gt=OuterRef("visitor_read_up_to"))
        .order_by()
        .values("conversation")
        .annotate(count=Count("id"))
        .values("count")
    )
    conversations = list(
        Conversation.objects.filter(
            site_id=site_id, visitor_id=visitor_id, kind=Conversation.Kind.PRIVATE
        )
        .annotate(
            last_public_id=Subquery(public.order_by("-id").values("id")[:1]),
            last_agent_name=Subquery(agents.order_by("-id").values("author_name")[:1]),
            unread_count=Coalesce(Subquery(unread), 0),
        )
        .filter(last_public_id__isnull=False)
        .order_by(F("last_message_at").desc(nulls_last=True), "-id")[: limit + 1]
    )
    last_messages = Message.objects.filter(
        pk__in=[conversation.last_public_id for conversation in conversations[:limit]]
    ).annotate(attachment_count=Count("attachments"))
    by_id = {message.pk: message for message in last_messages}
    rows = [
        VisitorConversation(
            conversation=conversation,
            last_message=by_id[conversation.last_public_id],
            attachment_count=by_id[conversation.last_public_id].attachment_count,
            agent_name=conversation.last_agent_name or "",
            unread=conversation.unread_count,
        )
        for conversation in conversations[:limit]
        if conversation.last_public_id in by_id  # pruned between the two reads
    ]
    return rows, len(conversations) > limit


# --- The dashboard's inbox (its list: widget.inbox) -----------------------------------------


def inbox_conversation(*, conversation_id: int) -> Conversation | None:
    return (
        Conversation.objects.select_related("visitor", "assignee")
        .filter(pk=conversation_id)
        .first()
    )


# --- What the dashboard tells a member without their asking (dashboard's notifications) ------

UNREAD_ROOMS_SHOWN = 100


def unread_rooms(*, limit: int = UNREAD_ROOMS_SHOWN) -> list[str]:
    """The rooms of open conversations holding a visitor's message no agent has read: the
    dashboard's tab title counts them, and its page keeps the count live from there."""
    return list(
        Conversation.objects.filter(Conversation.with_unread(), status=Conversation.Status.OPEN)
        .order_by(F("last_message_at").desc(nulls_last=True))
        .values_list("room", flat=True)[:limit]
    )


def conversation_by_room(*, room: str, site_id: int | None = None) -> Conversation | None:
    """The conversation a frame names (its room, and its site when two sites share the name)."""
    conversations = Conversation.objects.filter(room=room)
    if site_id is not None:
        conversations = conversations.filter(site_id=site_id)
    return conversations.order_by("id").first()


def conversations_waiting(*, since_before: datetime, now: datetime) -> list[int]:
    """Open conversations whose visitor has waited for an answer since before `since_before`,
    not snoozed: those the unanswered-conversation emails may be about (their ids)."""
    return list(
        Conversation.objects.filter(
            status=Conversation.Status.OPEN, waiting_since__lte=since_before
        )
        .exclude(snoozed_until__gt=now)
        .order_by("waiting_since")
        .values_list("pk", flat=True)
    )


def conversation_waiting_locked(*, conversation_id: int) -> Conversation | None:
    """The conversation, locked for this transaction, if it still waits and no other process
    holds it (two notifiers never email about it twice): call inside `transaction.atomic`."""
    return (
        Conversation.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("visitor")
        .filter(pk=conversation_id, waiting_since__isnull=False)
        .first()
    )


def visitor_other_conversations(
    *, conversation: Conversation, limit: int = 20
) -> list[Conversation]:
    """The visitor's other conversations (on any of the tenant's sites) where something was
    said, latest first, each with its last message's text (`last_text`, private notes aside):
    what an agent looks at to know whether this person wrote before, and about what. A widget
    session alone (the empty row a visitor's "New conversation" keeps) is none."""
    if not conversation.visitor_id:
        return []
    last_text = Message.objects.filter(conversation=OuterRef("pk"), private=False).order_by("-id")
    return list(
        Conversation.objects.filter(
            visitor_id=conversation.visitor_id, last_message_at__isnull=False
        )
        .exclude(pk=conversation.pk)
        .annotate(last_text=Subquery(last_text.values("text")[:1]))
        .order_by(F("last_message_at").desc(nulls_last=True), "-id")[:limit]
    )


def visitor_has_seen(*, conversation: Conversation, messages: list[Message]) -> bool:
    """Whether the visitor has read the latest message they did not write (the "Seen" note)."""
    for message in reversed(messages):
        if message.author_kind != Message.AuthorKind.VISITOR:
            return message.id <= conversation.visitor_read_up_to
    return False


# --- Canned replies (their services: widget.services.canned_replies) -------------------------


def canned_reply_list() -> QuerySet[CannedReply]:
    return CannedReply.objects.all()


def canned_reply_get(*, canned_reply_id: int) -> CannedReply:
    canned_reply = CannedReply.objects.filter(pk=canned_reply_id).first()
    if canned_reply is None:
        raise NotFound("No canned reply has this id.")
    return canned_reply


def canned_replies_filled(
    *, conversation: Conversation, agent_name: str, site_name: str
) -> list[dict[str, str]]:
    """The tenant's canned replies as the composer inserts them in this conversation: each
    body with its variables filled in for its visitor and the agent answering."""
    visitor = conversation.visitor
    values = conversation_values(
        visitor_name=visitor.name if visitor else "",
        visitor_email=visitor.email if visitor else "",
        agent_name=agent_name,
        site_name=site_name,
    )
    return [
        {
            "shortcut": reply.shortcut,
            "title": reply.title,
            "text": variables_fill(reply.body, values),
        }
        for reply in canned_reply_list()
    ]


def label_list() -> QuerySet[Label]:
    return Label.objects.all()


def label_get(*, label_id: int) -> Label:
    label = Label.objects.filter(pk=label_id).first()
    if label is None:
        raise NotFound("No label has this id.")
    return label


@dataclass(frozen=True)
class RatingAverage:
    """Ratings' mean (None when there is none yet) and how many there are."""

    average: float | None
    count: int


def ratings_by_agent() -> dict[int, RatingAverage]:
    """Each rated agent's average, by member id (the agent the conversation was assigned to when
    the visitor rated it)."""
    rows = Rating.objects.filter(agent__isnull=False).values("agent_id")
    rows = rows.annotate(average=Avg("score"), count=Count("id"))
    return {row["agent_id"]: RatingAverage(row["average"], row["count"]) for row in rows}


def rating_of(*, conversation: Conversation) -> Rating | None:
    """The visitor's rating of the conversation, if they gave one."""
    return Rating.objects.filter(conversation=conversation).first()


def ratings_of_site(*, site_id: int) -> RatingAverage:
    rows = Rating.objects.filter(site_id=site_id)
    found = rows.aggregate(average=Avg("score"), count=Count("id"))
    return RatingAverage(found["average"], found["count"])
