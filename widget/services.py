"""Services that change conversations: posting messages, starting visitor sessions, closing
conversations, erasing visitors.

Runs inside the tenant's schema: callers wrap calls in `schema_context(tenant.schema_name)` (or
run within a request that django-tenants has already routed to the tenant), except
`visitor_session_start`, which enters the site's schema itself.
"""

import hmac
import secrets
from dataclasses import dataclass
from hashlib import sha256

from django.db import IntegrityError, connection, transaction
from django_tenants.utils import schema_context

from core.errors import IdentityInvalid, IdentityRequired, InvalidToken
from tenants import webhooks
from tenants.site_directory import SiteInfo
from tenants.tokens import VisitorToken, token_issue, token_verify
from widget import events
from widget.events import PRIVATE_ROOM_PREFIX
from widget.models import Conversation, Message, Visitor


def message_post(
    *,
    tenant_id: int,
    conversation: Conversation,
    text: str,
    author_kind: str,
    author_id: str = "",
    author_name: str = "",
    client_id: str | None = None,
) -> tuple[Message, bool]:
    """Store a message and publish it to the room and the tenant's agents after commit.

    A `client_id` seen before in the same room returns the stored message and publishes nothing
    again: a resend after a reconnect is stored and broadcast once. Returns (message, created).
    """
    if client_id is not None:
        existing = Message.objects.filter(conversation=conversation, client_id=client_id).first()
        if existing is not None:
            return existing, False
    try:
        with transaction.atomic():
            message = Message.objects.create(
                conversation=conversation,
                client_id=client_id,
                author_kind=author_kind,
                author_id=author_id,
                author_name=author_name,
                text=text,
            )
            Conversation.objects.filter(pk=conversation.pk).update(
                last_message_at=message.created_at, status=Conversation.Status.OPEN
            )
    except IntegrityError:
        # The same client_id raced in through another connection: that one was stored.
        return Message.objects.get(conversation=conversation, client_id=client_id), False
    transaction.on_commit(lambda: events.publish_message(tenant_id, conversation, message))
    # robust: a failure to queue a webhook is logged and never fails the message's sender.
    transaction.on_commit(
        lambda: webhooks.on_message_created(tenant_id, conversation, message), robust=True
    )
    return message, True


# --- Visitor sessions (POST /api/widget/v1/session) -------------------------------------------


@dataclass(frozen=True)
class VisitorIdentity:
    """Who the tenant's page says the visitor is (`Parley('identify', ...)`)."""

    user_id: str
    name: str = ""
    email: str = ""
    hash: str = ""


@dataclass(frozen=True)
class VisitorSession:
    visitor: Visitor
    conversation: Conversation
    token: str
    claims: VisitorToken


def identity_verified(*, site: SiteInfo, identity: VisitorIdentity | None) -> bool:
    """Whether the identity is proven by its hash. Raises when the site cannot accept it.

    A hash that does not match is refused on every site. Without a hash, a site that requires
    identity refuses; another site takes the name and email as the visitor's own words only: an
    unproven user id never joins a conversation that belongs to that id.
    """
    if identity is None or not identity.hash:
        if site.require_identity:
            raise IdentityRequired()
        return False
    expected = hmac.new(site.identity_secret.encode(), identity.user_id.encode(), sha256)
    if not hmac.compare_digest(expected.hexdigest(), identity.hash.lower()):
        raise IdentityInvalid()
    return True


def _previous_claims(site: SiteInfo, visitor_token: str | None) -> VisitorToken | None:
    """The previous token's claims when it is valid and for this site; else a fresh start."""
    if not visitor_token:
        return None
    try:
        claims = token_verify(visitor_token)
    except InvalidToken:
        return None
    if claims.site_id != site.site_id or claims.tenant_id != site.tenant_id:
        return None
    return claims


def _identified_visitor(site: SiteInfo, user_id: str, previous: Visitor | None) -> Visitor:
    # Two devices of one user may start a session at the same moment: serialize on the user.
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"{site.site_id}:{user_id}"])
    known = Visitor.objects.filter(site_id=site.site_id, external_id=user_id).first()
    if known is not None:
        return known
    if previous is not None and not previous.external_id:
        previous.external_id = user_id  # the anonymous visitor has just logged in
        return previous
    return Visitor(site_id=site.site_id, external_id=user_id)


def _private_conversation(site: SiteInfo, visitor: Visitor) -> tuple[Conversation, bool]:
    conversation = (
        Conversation.objects.filter(
            site_id=site.site_id, visitor=visitor, kind=Conversation.Kind.PRIVATE
        )
        .order_by("-id")
        .first()
    )
    if conversation is not None:
        return conversation, False
    conversation = Conversation.objects.create(
        room=PRIVATE_ROOM_PREFIX + secrets.token_urlsafe(16),
        site_id=site.site_id,
        kind=Conversation.Kind.PRIVATE,
        visitor=visitor,
    )
    return conversation, True


def visitor_session_start(
    *, site: SiteInfo, visitor_token: str | None = None, identity: VisitorIdentity | None = None
) -> VisitorSession:
    """Start or resume a widget session: the visitor, their private conversation and a token.

    A valid previous token of this site keeps its visitor and conversation; an invalid, expired
    or other site's token starts a new visitor. A verified identity keeps one visitor (and so
    one conversation) per user id across devices. Runs in the site's tenant schema.
    """
    verified = identity_verified(site=site, identity=identity)
    previous = _previous_claims(site, visitor_token)
    with schema_context(site.schema_name), transaction.atomic():
        visitor = None
        if previous is not None:
            visitor = Visitor.objects.filter(id=previous.visitor_id, site_id=site.site_id).first()
        if verified:
            visitor = _identified_visitor(site, identity.user_id, visitor)
        elif visitor is None:
            visitor = Visitor(site_id=site.site_id)
        if identity is not None:
            visitor.name = identity.name or visitor.name
            visitor.email = identity.email or visitor.email
        visitor.save()
        conversation, created = _private_conversation(site, visitor)
        if created:
            transaction.on_commit(
                lambda: webhooks.on_conversation_created(site.tenant_id, conversation),
                robust=True,
            )
    token, claims = token_issue(
        tenant_id=site.tenant_id,
        site_id=site.site_id,
        visitor_id=str(visitor.id),
        conversation=conversation.room,
        user_id=visitor.external_id,
    )
    return VisitorSession(visitor=visitor, conversation=conversation, token=token, claims=claims)


# --- Conversations and visitors (site-key API) ----------------------------------------------


@transaction.atomic
def conversation_close(*, tenant_id: int, conversation: Conversation) -> bool:
    """Close a conversation. Returns False when it was closed already (nothing happens)."""
    closed = Conversation.objects.filter(
        pk=conversation.pk, status=Conversation.Status.OPEN
    ).update(status=Conversation.Status.CLOSED)
    if not closed:
        return False
    conversation.status = Conversation.Status.CLOSED
    transaction.on_commit(
        lambda: webhooks.on_conversation_closed(tenant_id, conversation), robust=True
    )
    return True


@transaction.atomic
def visitor_erase(*, visitor: Visitor) -> None:
    """Erase a visitor: their conversations with every message in them, and what they wrote in
    public rooms. Runs in the tenant's schema."""
    Message.objects.filter(
        author_kind=Message.AuthorKind.VISITOR, author_id=str(visitor.id)
    ).delete()
    visitor.delete()  # cascades to their conversations and those conversations' messages
