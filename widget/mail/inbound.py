"""Emailed replies become messages (docs/EMAIL.md). One service for both doors: the SMTP
receiver (`widget.mail.receiver`, `manage.py mail_receiver`) and the providers' inbound
webhooks (`widget.mail.webhooks`, anymail's `inbound` signal).

1. The recipient must be a reply address Parley signed (`widget.mail.addresses`) for a private
   conversation of an active tenant, whose party still exists: the visitor it was made for, or
   a member of the team who may use the inbox. Anything else is `UnknownRecipient` (SMTP 550 at
   RCPT time, before the message is even sent).
2. Bounces (an empty envelope sender or `Return-Path: <>`, `multipart/report`, mailer-daemon)
   and automatic replies (`Auto-Submitted` other than `no`, `X-Autoreply`, `X-Autorespond`,
   `Precedence: bulk | auto_reply | junk | list`, `List-Id`, out-of-office subjects) are
   dropped: nothing is created, and the sender is not answered (no backscatter).
3. An agent's address also needs the email to come From that member's address.
4. The text (the plain part, else the HTML part's text) loses its quoted part and signature
   (email-reply-parser, then an RFC 3676 `-- ` line), is cut to a message's length, and is
   posted through the message service like a message of the widget or the dashboard: stored,
   announced to the room and the agents, queued for webhooks. Its client_id comes from the
   email's Message-ID, so a delivery repeated by a retrying server is stored once. A visitor's
   replies draw on their message budget (`BUDGET_VISITOR_MESSAGES`), as their widget's do; past
   it the SMTP receiver answers 451 so the sending server tries again later.
"""

import email
import hashlib
import logging
import re
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import default as default_policy
from email.utils import getaddresses, parseaddr
from enum import StrEnum

from django.conf import settings
from django.utils.html import strip_tags
from django_tenants.utils import tenant_context
from email_reply_parser import EmailReplyParser

from accounts.models import User
from accounts.roles import Capability, user_can
from core.errors import ParleyError
from tenants.models import Tenant
from tenants.status import suspension_of
from widget.budgets import visitor_messages
from widget.frames import MAX_TEXT_CHARS
from widget.mail.addresses import reply_address_parse, reply_address_verify
from widget.models import EMAIL_CLIENT_ID_PREFIX, Conversation, Message
from widget.services.conversations import conversation_mark_read
from widget.services.messages import message_post

log = logging.getLogger(__name__)


class Outcome(StrEnum):
    POSTED = "posted"
    DUPLICATE = "duplicate"  # the same email again: stored once
    BOUNCE = "bounce"
    AUTO_REPLY = "auto_reply"
    EMPTY = "empty"  # nothing left once quotes and signature are gone
    WRONG_SENDER = "wrong_sender"  # an agent's address, From someone else
    UNKNOWN_RECIPIENT = "unknown_recipient"
    REFUSED = "refused"  # the message service refused it (the plan's messages this month)
    RATE_LIMITED = "rate_limited"  # past the visitor's message budget: try again later


class UnknownRecipient(Exception):
    """Not an address this installation signed for a conversation that can take mail."""


@dataclass(frozen=True)
class Recipient:
    tenant: Tenant
    conversation_id: int
    agent_id: int | None  # None: the conversation's visitor


AUTO_REPLY_SUBJECT = re.compile(
    r"^\s*(?:re:\s*)?(?:auto(?:matic)?[ -]?(?:reply|response|antwort)|autosvar|auto:|"
    r"out of (?:the )?office|vacation|away from (?:my|the) (?:desk|office)|"
    r"abwesenheit|absence|r[ée]ponse automatique|automatische antwort|"
    r"fuera de la oficina|respuesta autom[áa]tica)",
    re.IGNORECASE,
)
AUTO_PRECEDENCE = {"bulk", "auto_reply", "junk", "list"}
BOUNCE_SENDERS = {"mailer-daemon", "postmaster"}
SIGNATURE_LINE = re.compile(r"^-- ?$", re.MULTILINE)  # RFC 3676's "-- " (and its trimmed form)


def recipient_resolve(address: str) -> Recipient:
    """The conversation and party a reply address stands for, or `UnknownRecipient`."""
    claim = reply_address_parse(address)
    if claim is None:
        raise UnknownRecipient(address)
    tenant = (
        Tenant.objects.exclude(schema_name=settings.PUBLIC_SCHEMA_NAME)
        .filter(pk=claim.tenant_id)
        .first()
    )
    if tenant is None or suspension_of(tenant.pk) is not None:
        raise UnknownRecipient(address)
    with tenant_context(tenant):
        conversation = Conversation.objects.filter(
            pk=claim.conversation_id, kind=Conversation.Kind.PRIVATE
        ).first()
        if conversation is None or not reply_address_verify(
            claim, visitor_id=conversation.visitor_id
        ):
            raise UnknownRecipient(address)
        if claim.agent_id is None:
            if conversation.visitor_id is None:
                raise UnknownRecipient(address)
        elif _member(claim.agent_id) is None:
            raise UnknownRecipient(address)
    return Recipient(tenant=tenant, conversation_id=conversation.pk, agent_id=claim.agent_id)


def _member(member_id: int) -> User | None:
    member = User.objects.filter(pk=member_id, is_active=True).first()
    return member if member is not None and user_can(member, Capability.INBOX) else None


def parse(raw: bytes) -> EmailMessage:
    return email.message_from_bytes(raw, policy=default_policy)


def is_bounce(message: EmailMessage, envelope_sender: str | None) -> bool:
    if envelope_sender is not None and envelope_sender.strip("<> ") == "":
        return True
    if (message.get("Return-Path") or "").strip().replace(" ", "") == "<>":
        return True
    if message.get_content_type() == "multipart/report":
        return True
    sender = parseaddr(str(message.get("From") or ""))[1].lower()
    return sender.partition("@")[0] in BOUNCE_SENDERS


def is_auto_reply(message: EmailMessage) -> bool:
    submitted = str(message.get("Auto-Submitted") or "").strip().lower()
    if submitted and submitted != "no":
        return True
    if message.get("X-Autoreply") or message.get("X-Autorespond") or message.get("List-Id"):
        return True
    precedence = {
        str(message.get(name) or "").strip().lower() for name in ("Precedence", "X-Precedence")
    }
    if precedence & AUTO_PRECEDENCE:
        return True
    return bool(AUTO_REPLY_SUBJECT.match(str(message.get("Subject") or "")))


def reply_text(message: EmailMessage) -> str:
    """What the sender wrote: no quoted message, no signature, at most a message's length."""
    body = message.get_body(preferencelist=("plain", "html"))
    if body is None:
        return ""
    try:
        content = body.get_content()
    except (LookupError, ValueError):  # an unknown charset
        content = body.get_payload(decode=True).decode("utf-8", errors="replace")
    if body.get_content_type() == "text/html":
        content = strip_tags(re.sub(r"(?i)<br\s*/?>|</p>|</div>", "\n", content))
    content = content.replace("\r\n", "\n")
    text = EmailReplyParser.parse_reply(content)
    signature = SIGNATURE_LINE.search(text)
    if signature:
        text = text[: signature.start()]
    text = text.strip()
    if len(text) > MAX_TEXT_CHARS:
        text = text[: MAX_TEXT_CHARS - 1].rstrip() + "…"
    return text


def _client_id(message: EmailMessage, raw: bytes) -> str:
    identity = str(message.get("Message-ID") or "").strip().encode() or raw
    return EMAIL_CLIENT_ID_PREFIX + hashlib.sha256(identity).hexdigest()[:40]


def inbound_receive(
    *, raw: bytes, recipients: list[str], envelope_sender: str | None = None
) -> Outcome:
    """Turn one received email into a message of the conversation its (first) reply address
    names, or drop it; says which. Never raises for what the email holds."""
    message = parse(raw)
    if is_bounce(message, envelope_sender):
        log.info("inbound email dropped: a bounce", extra={"recipients": recipients})
        return Outcome.BOUNCE
    if is_auto_reply(message):
        log.info("inbound email dropped: an automatic reply", extra={"recipients": recipients})
        return Outcome.AUTO_REPLY
    recipient = None
    for address in recipients:
        try:
            recipient = recipient_resolve(address)
            break
        except UnknownRecipient:
            continue
    if recipient is None:
        log.info("inbound email dropped: no reply address of ours", extra={"to": recipients})
        return Outcome.UNKNOWN_RECIPIENT
    text = reply_text(message)
    if not text:
        return Outcome.EMPTY
    with tenant_context(recipient.tenant):
        return _post(recipient, message, text, _client_id(message, raw))


def _post(recipient: Recipient, message: EmailMessage, text: str, client_id: str) -> Outcome:
    tenant_id = recipient.tenant.pk
    conversation = Conversation.objects.select_related("visitor").get(pk=recipient.conversation_id)
    budget = None
    if recipient.agent_id is None:
        visitor = conversation.visitor
        author = {"kind": Message.AuthorKind.VISITOR, "id": str(visitor.pk)}
        author["name"] = visitor.display_name
        # The visitor's own message budget, as in the widget: a reply address in a script's
        # hands cannot spend the tenant's month.
        budget = (tenant_id, author["id"])
        if visitor_messages.take(budget, settings.BUDGET_VISITOR_MESSAGES):
            log.info("inbound email deferred: past the visitor's message budget")
            return Outcome.RATE_LIMITED
    else:
        member = _member(recipient.agent_id)
        sender = parseaddr(str(message.get("From") or ""))[1]
        if member is None or sender.lower() != member.email.lower():
            log.info("inbound email dropped: an agent's address, from another sender")
            return Outcome.WRONG_SENDER
        author = {"kind": Message.AuthorKind.AGENT, "id": str(member.pk)}
        author["name"] = member.public_name
    try:
        stored, created = message_post(
            tenant_id=tenant_id,
            conversation=conversation,
            text=text,
            author_kind=author["kind"],
            author_id=author["id"],
            author_name=author["name"],
            client_id=client_id,
        )
    except ParleyError as error:
        if budget is not None:
            visitor_messages.give_back(budget)
        log.warning("inbound email refused by the message service: %s", error.message)
        return Outcome.REFUSED
    if not created:
        if budget is not None:
            visitor_messages.give_back(budget)
        return Outcome.DUPLICATE
    # Who answers by email has read what the email carried (the visitor) or answers all of it.
    up_to = conversation.emailed_up_to if recipient.agent_id is None else stored.id
    if up_to:
        conversation_mark_read(
            tenant_id=tenant_id, conversation=conversation, reader=author, up_to=up_to
        )
    return Outcome.POSTED


def recipients_of(message: EmailMessage) -> list[str]:
    """The addresses a provider's message was sent to, when it gives no envelope recipient."""
    fields = [
        str(value) for name in ("Delivered-To", "To", "Cc") for value in message.get_all(name, [])
    ]
    return [address for _, address in getaddresses(fields) if address]
