"""The state of a conversation that agents see and change: read marks, closing, reopening,
assigning, labels, snoozing, and the same on many conversations at once (`conversations_bulk`).
Each change is told to the agents (and, for a read mark, the room) after commit; closing is also
queued for the tenant's webhooks, in its transaction.

A conversation's `created` event is not here: a conversation exists for the tenant from its
first message, so `widget.services.messages` announces it."""

from collections.abc import Iterable
from datetime import datetime
from typing import Literal

from django.db import transaction
from django.db.models import F
from django.db.models.functions import Greatest
from django.utils import timezone

from core.errors import BadRequest
from tenants.selectors import site_sends_transcripts
from widget import events, hot_sql, webhook_events
from widget.frames import Author
from widget.mail.transcripts import transcript_on_close
from widget.models import Conversation, Label


def conversation_mark_read(
    *, tenant_id: int, conversation: Conversation, reader: Author, up_to: int, sender: str = ""
) -> None:
    """Store how far the visitor or the agents have read (a mark never moves back) and tell the
    room's other members and the agents."""
    field = "visitor_read_up_to" if reader["kind"] == "visitor" else "agent_read_up_to"
    Conversation.objects.filter(pk=conversation.pk).update(**{field: Greatest(F(field), up_to)})
    transaction.on_commit(
        lambda: events.publish_read(
            tenant_id, conversation, author=reader, up_to=up_to, sender=sender
        )
    )


def _publish_after_commit(tenant_id: int, conversation: Conversation, event: str) -> Conversation:
    """Reload the conversation with what its frame names (the visitor, the list's unread count
    and labels), and tell the agents after commit.

    Loaded now, while the connection is certainly in the tenant's schema: the commit hook may run
    after the caller's schema_context has ended, and must not query.
    """
    fresh = Conversation.objects.select_related("visitor", "assignee", "rating").get(
        pk=conversation.pk
    )
    hot_sql.room_list_state(fresh)
    transaction.on_commit(lambda: events.publish_conversation(tenant_id, fresh, event))
    return fresh


@transaction.atomic
def conversation_close(*, tenant_id: int, conversation: Conversation) -> bool:
    """Close a conversation (it reopens with its next message; a snooze ends), tell the agents
    and the tenant's webhooks. Returns False when it was closed already (nothing happens)."""
    closed = Conversation.objects.filter(
        pk=conversation.pk, status=Conversation.Status.OPEN
    ).update(status=Conversation.Status.CLOSED, snoozed_until=None)
    if not closed:
        return False
    conversation.status, conversation.snoozed_until = Conversation.Status.CLOSED, None
    if site_sends_transcripts(site_id=conversation.site_id):
        transcript_on_close(conversation)
    fresh = _publish_after_commit(tenant_id, conversation, "closed")
    webhook_events.enqueue_conversation_closed(tenant_id, fresh)
    return True


@transaction.atomic
def conversation_reopen(*, tenant_id: int, conversation: Conversation) -> Conversation:
    Conversation.objects.filter(pk=conversation.pk).update(status=Conversation.Status.OPEN)
    return _publish_after_commit(tenant_id, conversation, "updated")


@transaction.atomic
def conversation_assign(*, tenant_id: int, conversation: Conversation, assignee) -> Conversation:
    """Give the conversation to a member of the team, or to nobody (`assignee=None`)."""
    if assignee is not None and not assignee.is_active:
        raise BadRequest("Only an active member of the team can be assigned.")
    Conversation.objects.filter(pk=conversation.pk).update(assignee=assignee)
    return _publish_after_commit(tenant_id, conversation, "updated")


@transaction.atomic
def conversation_label_add(
    *, tenant_id: int, conversation: Conversation, label: Label
) -> Conversation:
    """Put a label on the conversation (again: nothing changes, the agents are told anyway)."""
    conversation.labels.add(label)
    return _publish_after_commit(tenant_id, conversation, "updated")


@transaction.atomic
def conversation_label_remove(
    *, tenant_id: int, conversation: Conversation, label: Label
) -> Conversation:
    conversation.labels.remove(label)
    return _publish_after_commit(tenant_id, conversation, "updated")


@transaction.atomic
def conversation_snooze(
    *, tenant_id: int, conversation: Conversation, until: datetime
) -> Conversation:
    """Hide an open conversation from the open views until `until` (a future moment, aware).

    Nothing wakes it at that time: the views compare `snoozed_until` with now, so it is back the
    moment it is due, on every worker, with no job to run. A visitor's message wakes it sooner
    (the message writer clears `snoozed_until`).
    """
    if timezone.is_naive(until):
        raise BadRequest("until: a time with its time zone.")
    if until <= timezone.now():
        raise BadRequest("until: a time in the future.")
    updated = Conversation.objects.filter(
        pk=conversation.pk, status=Conversation.Status.OPEN
    ).update(snoozed_until=until)
    if not updated:
        raise BadRequest("Only an open conversation can be snoozed.")
    return _publish_after_commit(tenant_id, conversation, "updated")


@transaction.atomic
def conversation_unsnooze(*, tenant_id: int, conversation: Conversation) -> Conversation:
    Conversation.objects.filter(pk=conversation.pk).update(snoozed_until=None)
    return _publish_after_commit(tenant_id, conversation, "updated")


BulkAction = Literal["assign", "close", "label"]
BULK_MAX = 100


@transaction.atomic
def conversations_bulk(
    *,
    tenant_id: int,
    conversation_ids: Iterable[int],
    action: BulkAction,
    assignee=None,
    label: Label | None = None,
) -> int:
    """One action on several conversations in one transaction: `assign` (to `assignee`, None
    for nobody), `close`, or `label` (add `label`). Ids the tenant has no conversation for are
    skipped; returns how many conversations the action changed or kept as asked.

    At most BULK_MAX ids (two pages of the inbox): a bigger request is refused, not cut short.
    """
    ids = sorted(set(conversation_ids))
    if not ids:
        raise BadRequest("Choose at least one conversation.")
    if len(ids) > BULK_MAX:
        raise BadRequest(f"At most {BULK_MAX} conversations at once.")
    if action == "label" and label is None:
        raise BadRequest("Choose a label.")
    if action not in ("assign", "close", "label"):
        raise BadRequest("action: one of assign, close, label.")
    conversations = list(Conversation.objects.filter(pk__in=ids).order_by("pk"))
    for conversation in conversations:
        if action == "assign":
            conversation_assign(tenant_id=tenant_id, conversation=conversation, assignee=assignee)
        elif action == "close":
            conversation_close(tenant_id=tenant_id, conversation=conversation)
        else:
            conversation_label_add(tenant_id=tenant_id, conversation=conversation, label=label)
    return len(conversations)


def conversation_waiting_notified(*, conversation: Conversation, at: datetime) -> None:
    """Record that agents were emailed about this wait at `at`: an agent is told once per wait,
    when their own delay has passed since it began (dashboard.unanswered)."""
    Conversation.objects.filter(pk=conversation.pk).update(waiting_notified_at=at)
    conversation.waiting_notified_at = at
