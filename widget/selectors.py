"""Read-only queries of a tenant's conversations. Callers run them in the tenant's schema."""

from django.db.models import QuerySet

from core.errors import NotFound
from widget.models import Conversation, Message, Visitor


def site_agents_online(*, tenant_id: int, site_id: int) -> bool:
    """Whether an agent of the tenant is connected to answer the site's visitors.

    Presence comes from the agent sockets; until they report it, this honestly answers False
    (the widget then shows its "we'll reply later" state rather than a false promise).
    """
    return False


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
