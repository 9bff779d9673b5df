"""What is deleted for good: a visitor on request (the site-key API), and the messages older
than the tenant's plan keeps (`manage.py prune_history`), with their attachments' stored bytes
(deleted once the rows' deletion commits)."""

from datetime import datetime

from django.db import transaction
from django.db.models import Q

from widget import webhook_events
from widget.models import Attachment, Message, Visitor
from widget.services.attachments import files_delete_after_commit


@transaction.atomic
def visitor_erase(*, tenant_id: int, visitor: Visitor) -> None:
    """Erase a visitor: their conversations with every message in them, what they wrote in
    public rooms, and the copies of those in the tenant's webhook deliveries. Runs in the
    tenant's schema."""
    files_delete_after_commit(
        Attachment.objects.filter(Q(visitor=visitor) | Q(conversation__visitor=visitor))
    )
    Message.objects.filter(
        author_kind=Message.AuthorKind.VISITOR, author_id=str(visitor.id)
    ).delete()
    webhook_events.erase_visitor(tenant_id, str(visitor.id))
    visitor.delete()  # cascades to their conversations and those conversations' messages


PRUNE_BATCH = 5000


def messages_prune(*, before: datetime) -> int:
    """Delete the messages written before `before`, in batches (short transactions, short locks);
    returns how many. Conversations stay, with their visitor and state."""
    deleted = 0
    while True:
        batch = list(
            Message.objects.filter(created_at__lt=before)
            .order_by("id")
            .values_list("id", flat=True)[:PRUNE_BATCH]
        )
        if not batch:
            return deleted
        with transaction.atomic():
            files_delete_after_commit(Attachment.objects.filter(message_id__in=batch))
            deleted += (
                Message.objects.filter(id__in=batch, created_at__lt=before)
                .delete()[1]
                .get(Message._meta.label, 0)
            )
