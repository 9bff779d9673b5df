"""The visitor's forms (PROTOCOL.md, Pre-chat and offline forms): the pre-chat form's answers,
checked against the site's questions (`tenants.prechat`) and stored on the visitor; and the
offline form, whose message starts (or continues) the visitor's conversation like any message,
so it is in the agents' inbox at once.

Refusals are `InvalidForm` naming each field (`name`, `email`, `message`, or a question's key).
"""

import re

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django_tenants.utils import schema_context

from core.errors import InvalidForm, InvalidToken
from tenants.site_directory import SiteInfo
from tenants.tokens import VisitorToken, token_verify
from widget import events
from widget.frames import MAX_TEXT_CHARS
from widget.models import Conversation, Message, Visitor
from widget.services.messages import message_post

MAX_NAME = 200
MAX_ANSWER = 500
NUMBER = re.compile(r"^-?\d{1,15}([.,]\d{1,6})?$")


def _visitor_claims(site: SiteInfo, visitor_token: str) -> VisitorToken:
    claims = token_verify(visitor_token)
    if claims.site_id != site.site_id or claims.tenant_id != site.tenant_id:
        raise InvalidToken()
    return claims


def _text(value: object, *, limit: int) -> str | None:
    """A trimmed string of at most `limit` characters without NUL, or None when it is not one."""
    if not isinstance(value, str) or "\x00" in value or len(value.strip()) > limit:
        return None
    return value.strip()


def _email(value: object, problems: dict, *, required: bool) -> str:
    email = _text(value if value is not None else "", limit=254)
    if email is None:
        problems["email"] = "is not an email address"
        return ""
    if not email:
        if required:
            problems["email"] = "is required"
        return ""
    try:
        validate_email(email)
    except ValidationError:
        problems["email"] = "is not an email address"
    return email


def _name(value: object, problems: dict, *, required: bool = False) -> str:
    name = _text(value if value is not None else "", limit=MAX_NAME)
    if name is None:
        problems["name"] = f"at most {MAX_NAME} characters"
        return ""
    if required and not name:
        problems["name"] = "is required"
    return name


def _answer(question: dict, value: object) -> tuple[object, str | None]:
    """The stored value of one answer, or the problem with it."""
    kind, required = question["type"], question["required"]
    if kind == "checkbox":
        if value is None:
            value = False
        if not isinstance(value, bool):
            return None, "true or false"
        return (None, "must be ticked") if required and not value else (value, None)
    if value is None:
        value = ""
    if isinstance(value, int | float) and not isinstance(value, bool) and kind == "number":
        value = str(value)
    text = _text(value, limit=MAX_ANSWER)
    if text is None:
        return None, f"at most {MAX_ANSWER} characters of text"
    if not text:
        return (None, "is required") if required else ("", None)
    if kind == "number" and not NUMBER.match(text):
        return None, "is not a number"
    if kind == "email":
        try:
            validate_email(text)
        except ValidationError:
            return None, "is not an email address"
    if kind == "select" and text not in question["options"]:
        return None, "is not one of the choices"
    return text, None


def prechat_answers_clean(*, site: SiteInfo, name: object, email: object, answers: object):
    """(name, email, [{"key", "label", "value"}]) for the site's form, or InvalidForm."""
    problems: dict[str, str] = {}
    asks = site.prechat != "none"
    name = _name(name, problems) if asks else ""
    email = _email(email, problems, required=site.prechat == "email_required") if asks else ""
    if not isinstance(answers, dict):
        raise InvalidForm({"answers": "an object of the questions' keys to answers"})
    known = {question["key"] for question in site.prechat_fields}
    for key in sorted(set(answers) - known)[:1]:
        problems[key] = "is not a question of this site"
    stored = []
    for question in site.prechat_fields:
        value, problem = _answer(question, answers.get(question["key"]))
        if problem:
            problems[question["key"]] = problem
        elif value not in ("", None):
            stored.append({"key": question["key"], "label": question["label"], "value": value})
    if problems:
        raise InvalidForm(problems)
    return name, email, stored


def _visitor_conversation(site: SiteInfo, claims: VisitorToken) -> tuple[Visitor, Conversation]:
    visitor = Visitor.objects.filter(id=claims.visitor_id, site_id=site.site_id).first()
    conversation = Conversation.objects.filter(
        site_id=site.site_id, room=claims.conversation
    ).first()
    if visitor is None or conversation is None:
        raise InvalidToken()
    return visitor, conversation


def visitor_prechat_submit(
    *, site: SiteInfo, visitor_token: str, name: object, email: object, answers: object
) -> Visitor:
    """Store the visitor's answers to the site's pre-chat form (a second answer replaces the
    first) and tell the agents' visitor panel."""
    claims = _visitor_claims(site, visitor_token)
    name, email, stored = prechat_answers_clean(site=site, name=name, email=email, answers=answers)
    with schema_context(site.schema_name), transaction.atomic():
        visitor, conversation = _visitor_conversation(site, claims)
        visitor.name = name or visitor.name
        visitor.email = email or visitor.email
        visitor.prechat_answers = stored
        visitor.prechat_at = timezone.now()
        visitor.save()
        transaction.on_commit(lambda: events.publish_visitor(site.tenant_id, conversation, visitor))
    return visitor


def visitor_offline_message(
    *,
    site: SiteInfo,
    visitor_token: str,
    name: object,
    email: object,
    message: object,
    client_id: str | None = None,
) -> Message:
    """The offline form: the visitor's name and email stored on them (the email required: it is
    how the answer reaches them), the message stored in their conversation as theirs, so it is
    in the inbox (a new conversation, or the next message of theirs). A resend with the same
    `client_id` (the widget retrying) is stored once."""
    claims = _visitor_claims(site, visitor_token)
    problems: dict[str, str] = {}
    name = _name(name, problems)
    email = _email(email, problems, required=True)
    text = _text(message, limit=MAX_TEXT_CHARS)
    if not text:
        problems["message"] = f"1 to {MAX_TEXT_CHARS} characters"
    if problems:
        raise InvalidForm(problems)
    with schema_context(site.schema_name), transaction.atomic():
        visitor, conversation = _visitor_conversation(site, claims)
        visitor.name = name or visitor.name
        visitor.email = email
        visitor.save()
        stored, _ = message_post(
            tenant_id=site.tenant_id,
            conversation=conversation,
            text=text,
            author_kind=Message.AuthorKind.VISITOR,
            author_id=str(visitor.id),
            author_name=visitor.display_name,
            client_id=client_id,
        )
        stored.conversation = conversation  # a resend's stored row: read without a query later
        transaction.on_commit(lambda: events.publish_visitor(site.tenant_id, conversation, visitor))
    return stored


def prechat_done(*, site: SiteInfo, visitor: Visitor) -> bool:
    """Whether the widget may skip the pre-chat form: the site asks nothing, the visitor
    answered it, or the site asks only what the page already told (an identified email)."""
    if site.prechat == "none" and not site.prechat_fields:
        return True
    if visitor.prechat_at is not None:
        return True
    return not site.prechat_fields and bool(visitor.email)
