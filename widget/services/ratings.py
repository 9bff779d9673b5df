"""Ratings: the visitor's 1 to 5 (and a comment) for a closed conversation. The averages are
read in `widget.selectors`."""

from django.db import transaction

from core.errors import BadRequest, Conflict
from widget import hot_sql, webhook_events
from widget.models import Conversation, Rating

MAX_COMMENT = 1000


@transaction.atomic
def conversation_rate(
    *, tenant_id: int, conversation: Conversation, score: int, comment: str = ""
) -> Rating:
    """Store the visitor's rating of a closed conversation (rating again replaces it, keeping the
    agent it was first given for), and queue `conversation.rated` for the tenant's webhooks in
    the same transaction. An open conversation cannot be rated (Conflict): it is not over."""
    if not 1 <= score <= 5:
        raise BadRequest("score: a whole number from 1 to 5.")
    comment = comment.strip()
    if len(comment) > MAX_COMMENT:
        raise BadRequest(f"comment: at most {MAX_COMMENT} characters.")
    locked = Conversation.objects.select_for_update().get(pk=conversation.pk)
    if locked.status != Conversation.Status.CLOSED:
        raise Conflict("The conversation is open: it can be rated once it is closed.")
    rating, _ = Rating.objects.update_or_create(
        conversation=locked,
        defaults={"score": score, "comment": comment},
        create_defaults={
            "score": score,
            "comment": comment,
            "site_id": locked.site_id,
            "agent_id": locked.assignee_id,
        },
    )
    fresh = Conversation.objects.select_related("visitor", "rating").get(pk=locked.pk)
    hot_sql.room_list_state(fresh)  # its labels, in the payload as in the API
    webhook_events.enqueue_conversation_rated(tenant_id, fresh)
    return rating
