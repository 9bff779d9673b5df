"""The tenant's canned replies: create, change, delete, each written to the audit log.

Who may call these is the caller's business (the dashboard lets admins and owners, the site-key
API the tenant's server); what a reply may hold is checked here, once for every surface.
"""

import re

from django.db import IntegrityError, transaction

from accounts.models import User
from core.errors import BadRequest, Conflict
from tenants.audit import audit_record
from tenants.models import Tenant
from widget.canned_variables import VARIABLES, variables_unknown
from widget.models import CannedReply

SHORTCUT_MAX = CannedReply._meta.get_field("shortcut").max_length
SHORTCUT_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
TITLE_MAX = CannedReply._meta.get_field("title").max_length
# Below a message's 4000 characters (widget.frames.MAX_TEXT_CHARS), so that the body with its
# variables filled in (a name, an email) still fits in one message.
BODY_MAX = 3000


def _clean(shortcut: str, title: str, body: str) -> tuple[str, str, str]:
    # Typed as it is used: "/Hello" is the shortcut "hello".
    shortcut = shortcut.strip().removeprefix("/").lower()
    if not shortcut:
        raise BadRequest("shortcut: a canned reply needs a shortcut.")
    if len(shortcut) > SHORTCUT_MAX:
        raise BadRequest(f"shortcut: at most {SHORTCUT_MAX} characters.")
    if not SHORTCUT_PATTERN.match(shortcut):
        raise BadRequest(
            "shortcut: letters, digits, - and _ only, starting with a letter or digit."
        )
    title = " ".join(title.split())
    if not title:
        raise BadRequest("title: a canned reply needs a title.")
    if len(title) > TITLE_MAX:
        raise BadRequest(f"title: at most {TITLE_MAX} characters.")
    body = body.strip()
    if not body:
        raise BadRequest("body: a canned reply needs some text.")
    if len(body) > BODY_MAX:
        raise BadRequest(f"body: at most {BODY_MAX} characters.")
    if "\x00" in title + body:
        raise BadRequest("No NUL characters.")
    unknown = variables_unknown(body)
    if unknown:
        known = ", ".join(f"{{{{{name}}}}}" for name in VARIABLES)
        raise BadRequest(
            f"body: {', '.join(unknown)} is not a variable; the variables are {known}."
        )
    return shortcut, title, body


def _save(canned_reply: CannedReply, shortcut: str, title: str, body: str) -> CannedReply:
    """A refused change leaves `canned_reply` as it was."""
    taken = CannedReply.objects.filter(shortcut__iexact=shortcut).exclude(pk=canned_reply.pk)
    if taken.exists():
        raise Conflict(f"The shortcut /{shortcut} is taken by another canned reply.")
    previous = (canned_reply.shortcut, canned_reply.title, canned_reply.body)
    canned_reply.shortcut, canned_reply.title, canned_reply.body = shortcut, title, body
    try:
        with transaction.atomic():
            canned_reply.save()
    except IntegrityError:  # taken meanwhile
        canned_reply.shortcut, canned_reply.title, canned_reply.body = previous
        raise Conflict(f"The shortcut /{shortcut} is taken by another canned reply.") from None
    return canned_reply


@transaction.atomic
def canned_reply_create(
    *, tenant: Tenant, shortcut: str, title: str, body: str, created_by: User | None = None
) -> CannedReply:
    canned_reply = _save(CannedReply(created_by=created_by), *_clean(shortcut, title, body))
    audit_record(
        "canned_reply.created",
        tenant=tenant,
        target=str(canned_reply),
        details={"title": canned_reply.title},
    )
    return canned_reply


@transaction.atomic
def canned_reply_update(
    *,
    tenant: Tenant,
    canned_reply: CannedReply,
    shortcut: str | None = None,
    title: str | None = None,
    body: str | None = None,
) -> CannedReply:
    """Change the fields given (None: keep)."""
    before = {"shortcut": canned_reply.shortcut, "title": canned_reply.title}
    cleaned = _clean(
        canned_reply.shortcut if shortcut is None else shortcut,
        canned_reply.title if title is None else title,
        canned_reply.body if body is None else body,
    )
    body_changed = cleaned[2] != canned_reply.body
    _save(canned_reply, *cleaned)
    changed = {
        field: {"from": old, "to": getattr(canned_reply, field)}
        for field, old in before.items()
        if getattr(canned_reply, field) != old
    }
    if body_changed:
        changed["body"] = "changed"  # the text itself stays out of the log
    if changed:
        audit_record(
            "canned_reply.updated", tenant=tenant, target=str(canned_reply), details=changed
        )
    return canned_reply


@transaction.atomic
def canned_reply_delete(*, tenant: Tenant, canned_reply: CannedReply) -> None:
    audit_record("canned_reply.deleted", tenant=tenant, target=str(canned_reply))
    canned_reply.delete()
