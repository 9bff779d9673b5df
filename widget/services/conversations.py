"""The state of a conversation that agents see and change: read marks, closing, reopening,
assigning, and the `created` event. Each change is told to the agents (and, for a read mark,
the room) after commit; closing is also queued for the tenant's webhooks, in its transaction."""

from django.db import transaction
from django.db.models import F
from django.db.models.functions import Greatest

from core.errors import BadRequest
from widget import events, webhook_events
from widget.frames import Author
from widget.models import Conversation


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


@transaction.atomic
def conversation_close(*, tenant_id: int, conversation: Conversation) -> bool:
    """Close a conversation (it reopens with its next message), tell the agents and the tenant's
    webhooks. Returns False when it was closed already (nothing happens)."""
    closed = Conversation.objects.filter(
        pk=conversation.pk, status=Conversation.Status.OPEN
    ).update(status=Conversation.Status.CLOSED)
    if not closed:
        return False
    conversation.status = Conversation.Status.CLOSED
    snapshot = _snapshot(conversation)
    transaction.on_commit(lambda: events.publish_conversation(tenant_id, snapshot, "closed"))
    webhook_events.enqueue_conversation_closed(tenant_id, snapshot)
    return True


def conversation_created(*, tenant_id: int, conversation: Conversation) -> None:
    """Tell the agents about a conversation just created (the widget session endpoint)."""
    snapshot = _snapshot(conversation)
    transaction.on_commit(lambda: events.publish_conversation(tenant_id, snapshot, "created"))


def _snapshot(conversation: Conversation) -> Conversation:
    """A copy of the conversation as it is now, for an event published after commit: later
    changes to the caller's instance must not change what the event says."""
    if conversation.visitor_id:
        conversation.visitor  # noqa: B018 - load it now, inside the tenant's schema
    copy = Conversation(
        **{f.attname: getattr(conversation, f.attname) for f in Conversation._meta.concrete_fields}
    )
    if conversation.visitor_id:
        copy.visitor = conversation.visitor
    return copy


def _publish_after_commit(tenant_id: int, conversation: Conversation, event: str) -> Conversation:
    """Reload the conversation with what its frame names, and tell the agents after commit.

    Loaded now, while the connection is certainly in the tenant's schema: the commit hook may run
    after the caller's schema_context has ended, and must not query.
    """
    fresh = Conversation.objects.select_related("visitor").get(pk=conversation.pk)
    transaction.on_commit(lambda: events.publish_conversation(tenant_id, fresh, event))
    return fresh


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
