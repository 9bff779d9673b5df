"""What is known of a visitor's browser: set at the session's start and as they navigate
(PROTOCOL.md, Visitor context), told to the agents after commit."""

from django.db import transaction
from django.utils import timezone

from widget import events
from widget.models import Conversation, Visitor
from widget.visitor_context import PageContext, place_of, user_agent_parse


def visitor_context_fill(
    visitor: Visitor,
    *,
    context: PageContext | None,
    user_agent: str | None = None,
    address: str | None = None,
) -> None:
    """Put the widget's report, the parsed user agent and the address's place on the visitor
    (unsaved). Fields the report leaves out keep what was known."""
    if context is not None:
        for field, value in context.model_dump().items():
            if value:
                setattr(visitor, field, value)
    if user_agent:
        parsed = user_agent_parse(user_agent)
        visitor.user_agent = user_agent[: Visitor._meta.get_field("user_agent").max_length]
        visitor.browser, visitor.os, visitor.device = parsed.browser, parsed.os, parsed.device
    place = place_of(address)
    if place.country:
        visitor.country, visitor.city = place.country, place.city


def visitor_page_update(
    *, tenant_id: int, conversation: Conversation, visitor_id: str, page: PageContext
) -> Visitor | None:
    """The visitor navigated (the socket's `context` frame): store the page, tell the agents.
    None when the visitor was erased meanwhile."""
    visitor = Visitor.objects.filter(pk=visitor_id).first()
    if visitor is None:
        return None
    # The page as a whole: a new page without a title has none (not the previous page's).
    visitor.page_url, visitor.page_title = page.page_url, page.page_title
    # `last_seen_at` moves with every save (auto_now): a navigation is a sign of life.
    visitor.save(update_fields=["page_url", "page_title", "last_seen_at"])
    transaction.on_commit(lambda: events.publish_visitor(tenant_id, conversation, visitor))
    return visitor


def visitor_email_unsubscribe(*, visitor_id: str) -> bool:
    """Stop the conversation emails to this visitor (the unsubscribe link). Idempotent; False
    when there is no such visitor (erased since)."""
    visitor = Visitor.objects.filter(pk=visitor_id).first()
    if visitor is None:
        return False
    if visitor.email_unsubscribed_at is None:
        visitor.email_unsubscribed_at = timezone.now()
        visitor.save(update_fields=["email_unsubscribed_at"])
    return True
