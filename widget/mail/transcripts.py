"""Transcripts by email: the whole conversation (but the team's private notes) sent to the
visitor's email, when they ask for it in the widget, when an agent or the API sends it, and, on
a site with `transcript_on_close`, when the conversation is closed (docs/EMAIL.md).

Asking only marks the conversation (`transcript_requested_at`); the sender
(`manage.py email_continuity`, the same loop as the continuity emails) mails what is due, so no
request and no socket ever waits on a mail server. A transcript is due while it was requested
after the last one was sent; the claim is a compare-and-set of `transcript_sent_at` committed on
its own, so two senders never send the same request, and a failed send puts it back.
"""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage, get_connection
from django.core.validators import validate_email
from django.db.models import F, Q
from django.utils import timezone

from core.errors import BadRequest, RateLimited
from tenants.models import Tenant
from widget.mail.continuity import each_tenant_send, message_lines, visitor_email, zone_named
from widget.models import Conversation, Message, Visitor

TRANSCRIPT_MESSAGES = 2000  # the newest this many; an older start is summarised in one line
TRANSCRIPT_EVERY = 600  # seconds: at most one transcript of a conversation this often


class NoEmail(BadRequest):
    code = "no_email"
    default_message = "Give an email address to send the transcript to."


class TranscriptRecent(RateLimited):
    code = "transcript_recent"
    default_message = "A transcript was sent a moment ago."


def transcript_request(*, conversation: Conversation, email: str = "") -> str:
    """Mark the conversation's transcript due; the address it will go to: the visitor's email.

    A visitor with no email yet may give one (`email`): it becomes theirs, as a pre-chat form's
    would. A visitor's email is never replaced here, so a request cannot send a transcript
    anywhere but to the one address the visitor left. With no email at all: `NoEmail`. Once
    sent, another one waits `TRANSCRIPT_EVERY` seconds (`TranscriptRecent`, a 429)."""
    # Fresh: a socket's conversation is as it was when the socket opened.
    conversation = Conversation.objects.select_related("visitor").get(pk=conversation.pk)
    visitor = conversation.visitor
    if visitor is None:
        raise BadRequest("A public room has no transcript.")
    email = email.strip()
    if email and not visitor.email:
        try:
            validate_email(email)
        except ValidationError:
            raise BadRequest("That email address is not valid.") from None
        Visitor.objects.filter(pk=visitor.pk, email="").update(email=email)
        visitor.email = email
    if not visitor.email:
        raise NoEmail()
    now = timezone.now()
    sent = conversation.transcript_sent_at
    if sent is not None and (now - sent).total_seconds() < TRANSCRIPT_EVERY:
        wait = TRANSCRIPT_EVERY - int((now - sent).total_seconds())
        raise TranscriptRecent(retry_after=wait)
    Conversation.objects.filter(pk=conversation.pk).update(transcript_requested_at=now)
    conversation.transcript_requested_at = now
    return visitor.email


def transcript_on_close(conversation: Conversation) -> None:
    """A site's `transcript_on_close`: the closed conversation's transcript is due, when its
    visitor left an email and still wants emails (no rate limit: one close, one transcript)."""
    Conversation.objects.filter(
        pk=conversation.pk,
        visitor__isnull=False,
        visitor__email_unsubscribed_at__isnull=True,
    ).exclude(visitor__email="").update(transcript_requested_at=timezone.now())


def transcripts_due() -> list[int]:
    """The conversations (of the current schema) with a transcript asked for and not sent."""
    return list(
        Conversation.objects.filter(transcript_requested_at__isnull=False)
        .filter(
            Q(transcript_sent_at__isnull=True)
            | Q(transcript_sent_at__lt=F("transcript_requested_at"))
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def transcripts_send_all(*, now: datetime | None = None) -> int:
    """Every tenant's due transcripts; the number sent."""
    return each_tenant_send(transcripts_send, what="transcripts", now=now)


def transcripts_send(*, tenant: Tenant, now: datetime) -> int:
    due = transcripts_due()
    if not due:
        return 0
    sent = 0
    with get_connection() as connection:
        for conversation_id in due:
            conversation = (
                Conversation.objects.select_related("visitor").filter(pk=conversation_id).first()
            )
            if conversation is None or conversation.visitor is None:
                continue
            requested = conversation.transcript_requested_at
            before = conversation.transcript_sent_at
            claimed = Conversation.objects.filter(
                pk=conversation.pk,
                transcript_requested_at=requested,
                transcript_sent_at=before,
            ).update(transcript_sent_at=now)
            if not claimed:  # another sender took it, or a newer request came: next run
                continue
            try:
                connection.send_messages([transcript_email(tenant, conversation)])
            except Exception:
                Conversation.objects.filter(pk=conversation.pk, transcript_sent_at=now).update(
                    transcript_sent_at=before
                )
                raise
            sent += 1
    return sent


def transcript_email(tenant: Tenant, conversation: Conversation) -> EmailMessage:
    visitor = conversation.visitor
    shown = Message.objects.filter(conversation=conversation, private=False)
    total = shown.count()
    messages = list(shown.order_by("-id")[:TRANSCRIPT_MESSAGES])[::-1]
    lines = [f"Hello {visitor.name}," if visitor.name else "Hello,", ""]
    lines += [f"Here is your conversation with {tenant.name}.", ""]
    if total > len(messages):
        lines += [f"({total - len(messages)} earlier messages are not included.)", ""]

    def author_of(message: Message) -> str:
        if message.author_kind == Message.AuthorKind.VISITOR:
            return "You"
        return message.author_name or tenant.name

    lines += message_lines(messages, zone=zone_named(visitor.time_zone), author_of=author_of)
    return visitor_email(
        tenant,
        conversation,
        subject=f"Your conversation with {tenant.name}",
        lines=lines,
        reply_hint="Reply to this email to write again: "
        "your reply goes into the same conversation.",
        why=f"You get this email because a transcript of your chat with {tenant.name} "
        "was asked for.",
    )
