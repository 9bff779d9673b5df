"""Emails to agents about conversations left unanswered (`manage.py notify_unanswered`).

A conversation waits from its visitor's first message after the last agent's reply
(`Conversation.waiting_since`, kept by the message writer). Each agent chose after how many
minutes they want to hear of it (`User.notify_unanswered_minutes`, None: never). Who is told:
the assignee, or, while nobody has it, every agent who asked.

Each agent is told once per wait: the moment their delay passes (`waiting_since` + their
minutes) must lie after the previous email about this conversation (`waiting_notified_at`).
So an agent who asked for 15 minutes hears at 15, one who asked for 60 at 60, and neither
again until a reply ends the wait and a new one begins.

The email quotes the visitor's waiting messages and its Reply-To is the agent's own reply
address for the conversation (widget/mail/addresses.py): their emailed answer becomes their
message in it (docs/EMAIL.md).
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django_tenants.utils import tenant_context

from accounts.models import User
from accounts.roles import Capability, user_can
from tenants.models import Tenant
from tenants.services import tenant_url
from widget.mail.addresses import reply_address
from widget.mail.continuity import thread_headers
from widget.mail.unsubscribe import unsubscribe_url
from widget.models import Conversation, Message
from widget.selectors import conversation_waiting_locked, conversations_waiting
from widget.services.conversations import conversation_waiting_notified

# The visitor's newest waiting messages quoted in the email, at most.
WAITING_MESSAGES_SHOWN = 10


def unanswered_notify_all(*, now: datetime | None = None) -> int:
    """Email every tenant's agents who are due an email; the number of emails sent."""
    now = now or timezone.now()
    sent = 0
    for tenant in Tenant.objects.exclude(schema_name=settings.PUBLIC_SCHEMA_NAME):
        with tenant_context(tenant):
            sent += unanswered_notify(tenant=tenant, now=now)
    return sent


def unanswered_notify(*, tenant: Tenant, now: datetime) -> int:
    """One tenant's emails (in its schema). A conversation's emails and its mark are one
    transaction: a failed send leaves it to the next run, and a conversation another notifier
    holds is skipped, so none is emailed twice."""
    agents = [
        member
        for member in User.objects.filter(is_active=True, notify_unanswered_minutes__isnull=False)
        if user_can(member, Capability.INBOX)
    ]
    if not agents:
        return 0
    shortest = min(agent.notify_unanswered_minutes for agent in agents)
    sent = 0
    with get_connection() as connection:
        for conversation_id in conversations_waiting(
            since_before=now - timedelta(minutes=shortest), now=now
        ):
            with transaction.atomic():
                conversation = conversation_waiting_locked(conversation_id=conversation_id)
                if conversation is None:
                    continue
                due = [agent for agent in agents if _due(agent, conversation, now)]
                if not due:
                    continue
                connection.send_messages([_email(tenant, conversation, agent) for agent in due])
                conversation_waiting_notified(conversation=conversation, at=now)
                sent += len(due)
    return sent


def _due(agent: User, conversation: Conversation, now: datetime) -> bool:
    if conversation.assignee_id is not None and conversation.assignee_id != agent.pk:
        return False
    moment = conversation.waiting_since + timedelta(minutes=agent.notify_unanswered_minutes)
    notified = conversation.waiting_notified_at
    return moment <= now and (notified is None or notified < moment)


def _email(tenant: Tenant, conversation: Conversation, agent: User) -> EmailMessage:
    """The email to one agent: the visitor's waiting messages, a link to the conversation, and a
    reply address of this agent for this conversation (their reply becomes their message)."""
    who = conversation.visitor.display_name if conversation.visitor else f"#{conversation.room}"
    minutes = agent.notify_unanswered_minutes
    link = tenant_url(tenant) + reverse("conversation", kwargs={"pk": conversation.pk})
    waiting = list(
        Message.objects.filter(
            conversation=conversation,
            author_kind=Message.AuthorKind.VISITOR,
            created_at__gte=conversation.waiting_since,
        ).order_by("-id")[:WAITING_MESSAGES_SHOWN]
    )[::-1]
    said = "".join(
        f"> {line}\n" for message in waiting for line in [*message.text.splitlines(), ""]
    )
    unsubscribe = unsubscribe_url(tenant_id=tenant.id, member_id=agent.pk)
    body = (
        f"Hello {agent.public_name},\n\n"
        f"{who} has waited more than {minutes} minutes for an answer in {tenant.name}'s inbox.\n\n"
        f"{said}\n"
        f"Reply to this email to answer as yourself, or answer them in the inbox: {link}\n\n"
        "-- \n"
        "You get this email because of your notification settings; change them on your "
        f"profile: {tenant_url(tenant)}{reverse('profile')}\n"
        f"No more of these emails: {unsubscribe}\n"
    )
    return EmailMessage(
        subject=f"{who} is waiting for an answer ({tenant.name})",
        body=body,
        to=[agent.email],
        reply_to=[
            reply_address(
                tenant_id=tenant.id,
                conversation_id=conversation.pk,
                visitor_id=conversation.visitor_id,
                agent_id=agent.pk,
            )
        ],
        headers={
            **thread_headers(tenant.id, conversation.pk),
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Auto-Submitted": "auto-generated",
            "X-Auto-Response-Suppress": "All",
        },
    )
