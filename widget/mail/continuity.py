"""Emails to visitors about what agents said while they were away (`manage.py
email_continuity`, docs/EMAIL.md).

An agent's message is unseen while its id lies past the conversation's `visitor_read_up_to`:
the widget marks messages read only while its panel is open on a visible page, so a visitor
who left (no socket), or who never looks, leaves it unseen. Once the oldest unseen message not
emailed yet is `EMAIL_CONTINUITY_DELAY` seconds old, the visitor (if they gave an email and
did not unsubscribe) gets one email with every unseen message, and `emailed_up_to` moves past
them: the next email carries only newer ones. Messages older than `EMAIL_CONTINUITY_HORIZON`
are never emailed.

The claim comes before the send, as a compare-and-set of `emailed_up_to` committed on its own:
no row lock is held while the mail server answers (the message writer locks the conversation
row for every message), and two senders never email the same messages. A send that fails
puts the mark back for the next run.
"""

import logging
from datetime import datetime, timedelta
from email.utils import formataddr, make_msgid, parseaddr
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db.models import BigIntegerField, Exists, OuterRef
from django.db.models.functions import Greatest
from django.utils import timezone
from django_tenants.utils import tenant_context

from tenants.models import Tenant
from widget.mail.addresses import reply_address
from widget.mail.unsubscribe import unsubscribe_url
from widget.models import Conversation, Message

log = logging.getLogger(__name__)


def each_tenant_send(send, *, what: str, now: datetime | None = None) -> int:
    """`send(tenant=, now=)` in every tenant's schema; the number of emails sent in all. One
    tenant's failure (its schema being built, its mail refused) is not the others': it is
    logged, and raised only when no tenant sent anything."""
    now = now or timezone.now()
    sent, failed = 0, None
    for tenant in Tenant.objects.exclude(schema_name=settings.PUBLIC_SCHEMA_NAME):
        try:
            with tenant_context(tenant):
                sent += send(tenant=tenant, now=now)
        except Exception as error:
            log.warning("%s of tenant %s failed", what, tenant.pk, exc_info=True)
            failed = failed or error
    if failed is not None and not sent:
        raise failed
    return sent


def continuity_send_all(*, now: datetime | None = None) -> int:
    """Email every tenant's visitors who are due an email; the number of emails sent."""
    return each_tenant_send(continuity_send, what="conversation emails", now=now)


def _unseen(now: datetime):
    """Agent messages (not notes) of the outer conversation its visitor has neither seen nor
    been emailed, within the horizon."""
    return Message.objects.filter(
        conversation=OuterRef("pk"),
        author_kind=Message.AuthorKind.AGENT,
        private=False,
        id__gt=Greatest(
            OuterRef("visitor_read_up_to"),
            OuterRef("emailed_up_to"),
            output_field=BigIntegerField(),
        ),
        created_at__gte=now - timedelta(seconds=settings.EMAIL_CONTINUITY_HORIZON),
    )


def continuity_due(*, now: datetime) -> list[int]:
    """The ids of the conversations (of the current schema) whose oldest unseen agent message
    has waited past the delay, for a visitor who can be emailed."""
    due_before = now - timedelta(seconds=settings.EMAIL_CONTINUITY_DELAY)
    horizon = now - timedelta(seconds=settings.EMAIL_CONTINUITY_HORIZON)
    return list(
        Conversation.objects.filter(
            kind=Conversation.Kind.PRIVATE,
            last_message_at__gte=horizon,
            visitor__isnull=False,
            visitor__email_unsubscribed_at__isnull=True,
        )
        .exclude(visitor__email="")
        .filter(Exists(_unseen(now).filter(created_at__lte=due_before)))
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def continuity_send(*, tenant: Tenant, now: datetime) -> int:
    """One tenant's continuity emails (in its schema)."""
    due = continuity_due(now=now)
    if not due:
        return 0
    sent = 0
    with get_connection() as connection:
        for conversation_id in due:
            conversation = (
                Conversation.objects.select_related("visitor").filter(pk=conversation_id).first()
            )
            if conversation is None:
                continue
            unseen = list(
                Message.objects.filter(
                    conversation=conversation,
                    author_kind=Message.AuthorKind.AGENT,
                    private=False,
                    id__gt=max(conversation.visitor_read_up_to, conversation.emailed_up_to),
                    created_at__gte=now - timedelta(seconds=settings.EMAIL_CONTINUITY_HORIZON),
                ).order_by("id")
            )
            if not unseen:
                continue
            before, up_to = conversation.emailed_up_to, unseen[-1].id
            claimed = Conversation.objects.filter(pk=conversation.pk, emailed_up_to=before).update(
                emailed_up_to=up_to
            )
            if not claimed:  # another sender took them
                continue
            try:
                connection.send_messages([continuity_email(tenant, conversation, unseen)])
            except Exception:
                Conversation.objects.filter(pk=conversation.pk, emailed_up_to=up_to).update(
                    emailed_up_to=before
                )
                raise
            sent += 1
    return sent


def zone_named(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name) if name else ZoneInfo("UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def sender_address(tenant: Tenant) -> str:
    """From: the tenant's name on the platform's sending address."""
    return formataddr((tenant.name, parseaddr(settings.DEFAULT_FROM_EMAIL)[1]))


def thread_headers(tenant_id: int, conversation_id: int) -> dict[str, str]:
    """Headers that thread every email of a conversation together in the reader's mail app."""
    thread = f"<conversation-{tenant_id}-{conversation_id}@{settings.EMAIL_REPLY_DOMAIN}>"
    return {
        "Message-ID": make_msgid(domain=settings.EMAIL_REPLY_DOMAIN),
        "In-Reply-To": thread,
        "References": thread,
    }


def visitor_email(
    tenant: Tenant,
    conversation: Conversation,
    *,
    subject: str,
    lines: list[str],
    reply_hint: str,
    why: str,
) -> EmailMessage:
    """An email to the conversation's visitor: `lines`, then how replying works (`reply_hint`),
    then the footer saying `why` they get it, with a working unsubscribe link. Its Reply-To is
    the conversation's signed reply address; it threads with the conversation's other emails."""
    visitor = conversation.visitor
    unsubscribe = unsubscribe_url(tenant_id=tenant.id, visitor_id=visitor.pk)
    lines = [
        *lines,
        reply_hint,
        "",
        "-- ",  # RFC 3676's signature separator: mail apps leave what follows out of a reply
        why,
        f"No more emails: {unsubscribe}",
    ]
    return EmailMessage(
        subject=subject,
        body="\n".join(lines) + "\n",
        from_email=sender_address(tenant),
        to=[visitor.email],
        reply_to=[
            reply_address(
                tenant_id=tenant.id, conversation_id=conversation.pk, visitor_id=visitor.pk
            )
        ],
        headers={
            **thread_headers(tenant.id, conversation.pk),
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            # RFC 3834: automatic; responders (out of office) should not answer it.
            "Auto-Submitted": "auto-generated",
            "X-Auto-Response-Suppress": "All",
        },
    )


def message_lines(messages: list[Message], *, zone: ZoneInfo, author_of) -> list[str]:
    """Each message as its author and time (in `zone`), its text, and a blank line."""
    lines = []
    for message in messages:
        moment = message.created_at.astimezone(zone).strftime("%d %b %Y, %H:%M %Z")
        lines += [f"{author_of(message)} · {moment}", message.text, ""]
    return lines


def continuity_email(
    tenant: Tenant, conversation: Conversation, unseen: list[Message]
) -> EmailMessage:
    visitor = conversation.visitor
    authors = sorted({message.author_name or tenant.name for message in unseen})
    lines = [f"Hello {visitor.name}," if visitor.name else "Hello,", ""]
    lines.append(
        f"{' and '.join(authors)} answered you in your conversation with {tenant.name}:"
        if len(authors) <= 2
        else f"{tenant.name} answered you:"
    )
    lines.append("")
    lines += message_lines(
        unseen,
        zone=zone_named(visitor.time_zone),
        author_of=lambda message: message.author_name or tenant.name,
    )
    count = len(unseen)
    return visitor_email(
        tenant,
        conversation,
        subject=f"{tenant.name}: {count} new {'message' if count == 1 else 'messages'} for you",
        lines=lines,
        reply_hint="Reply to this email to answer: your reply goes into the same conversation.",
        why=f"You get this email because you left your address in {tenant.name}'s chat.",
    )
