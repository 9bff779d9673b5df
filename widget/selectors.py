"""Read-only queries of a tenant's conversations, for the dashboard's inbox.

Run in the tenant's schema (a request on the tenant's host, or inside schema_context).
"""

from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery

from widget.models import Conversation, Message

INBOX_PAGE_SIZE = 100
HISTORY_PAGE_SIZE = 200


def conversation_list(
    *,
    status: str | None = None,
    assignee_id: int | None = None,
    unassigned: bool = False,
    site_id: int | None = None,
    limit: int = INBOX_PAGE_SIZE,
) -> QuerySet[Conversation]:
    """Conversations, most recently active first, each with its last message and the number of
    visitor messages the agents have not read (`unread`)."""
    last = Message.objects.filter(conversation=OuterRef("pk")).order_by("-id")
    conversations = (
        Conversation.objects.select_related("visitor", "assignee")
        .annotate(
            last_text=Subquery(last.values("text")[:1]),
            last_author_kind=Subquery(last.values("author_kind")[:1]),
            last_author_name=Subquery(last.values("author_name")[:1]),
            unread=Count(
                "messages",
                filter=Q(
                    messages__author_kind=Message.AuthorKind.VISITOR,
                    messages__id__gt=F("agent_read_up_to"),
                ),
            ),
        )
        .order_by(F("last_message_at").desc(nulls_last=True), "-id")
    )
    if status:
        conversations = conversations.filter(status=status)
    if unassigned:
        conversations = conversations.filter(assignee__isnull=True)
    elif assignee_id is not None:
        conversations = conversations.filter(assignee_id=assignee_id)
    if site_id is not None:
        conversations = conversations.filter(site_id=site_id)
    return conversations[:limit]


def conversation_get(*, conversation_id: int) -> Conversation | None:
    return (
        Conversation.objects.select_related("visitor", "assignee")
        .filter(pk=conversation_id)
        .first()
    )


def conversation_history(
    *, conversation: Conversation, limit: int = HISTORY_PAGE_SIZE
) -> tuple[list[Message], bool]:
    """The latest `limit` messages, oldest first, and whether older ones exist."""
    newest_first = list(conversation.messages.order_by("-id")[: limit + 1])
    return list(reversed(newest_first[:limit])), len(newest_first) > limit
