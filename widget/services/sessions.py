"""Widget sessions (`POST /api/widget/v1/session`): who the visitor is (a previous token, an
identity proven by the site's identity secret), which of their private conversations the widget
opens, and a new token naming it."""

import hmac
import secrets
from dataclasses import dataclass
from hashlib import sha256

from django.db import connection, transaction
from django_tenants.utils import schema_context

from core.errors import IdentityInvalid, IdentityRequired, InvalidToken, NotFound, RateLimited
from core.ratelimit import retry_after_seconds
from tenants.site_directory import SiteInfo
from tenants.tokens import VisitorToken, token_issue, token_verify
from widget import events
from widget.budgets import conversation_take
from widget.events import PRIVATE_ROOM_PREFIX
from widget.models import Conversation, Visitor
from widget.services.visitors import visitor_context_fill
from widget.visitor_context import BrowserContext


@dataclass(frozen=True)
class VisitorIdentity:
    """Who the tenant's page says the visitor is (`Parley('identify', ...)`)."""

    user_id: str
    name: str = ""
    email: str = ""
    hash: str = ""
    # Custom attributes, already bounded (`widget.visitor_context.attributes_clean`).
    attributes: dict | None = None


@dataclass(frozen=True)
class ConversationChoice:
    """Which of the visitor's conversations a session opens (PROTOCOL.md, Several
    conversations): one named by its room, a new one, or (neither) the one the token names."""

    room: str | None = None
    new: bool = False


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
    # Bytes, not str: compare_digest raises TypeError on a str with non-ASCII characters.
    if not hmac.compare_digest(expected.hexdigest().encode(), identity.hash.lower().encode()):
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


def _new_private_conversation(site: SiteInfo, visitor: Visitor) -> Conversation:
    return Conversation.objects.create(
        room=PRIVATE_ROOM_PREFIX + secrets.token_urlsafe(16),
        site_id=site.site_id,
        kind=Conversation.Kind.PRIVATE,
        visitor=visitor,
    )


def _private_conversation(
    site: SiteInfo,
    visitor: Visitor,
    *,
    choice: ConversationChoice,
    token_room: str | None,
    address: str | None,
) -> Conversation:
    """The conversation this session opens, its row made now when it needs one. The row is the
    socket's room; the tenant hears of the conversation only with its first message (`created`
    event and webhook in `widget.services.messages`): a page view alone is no conversation.

    Asked for by room: one of the visitor's own, else 404 (another visitor's, site's or tenant's
    room is not found, exactly as one that never existed). Asked for anew: the visitor's newest
    conversation when nothing was said in it yet (so "New conversation" twice is one row), else a
    new one within the visitor's budget. Neither: the token's own conversation, else the
    visitor's newest, else a new one (a first visit).
    """
    own = Conversation.objects.filter(
        site_id=site.site_id, visitor=visitor, kind=Conversation.Kind.PRIVATE
    )
    if choice.room is not None:
        chosen = own.filter(room=choice.room).first()
        if chosen is None:
            raise NotFound("This visitor has no such conversation.")
        return chosen
    newest = own.order_by("-id").first()
    if choice.new and newest is not None:
        if newest.last_message_at is None:
            return newest
        wait = conversation_take(
            tenant_id=site.tenant_id, visitor_id=str(visitor.id), address=address or ""
        )
        if wait:
            raise RateLimited(
                "Too many new conversations from here for now; try again later.",
                retry_after=retry_after_seconds(wait),
            )
        return _new_private_conversation(site, visitor)
    if token_room:
        kept = own.filter(room=token_room).first()
        if kept is not None:
            return kept
    return newest or _new_private_conversation(site, visitor)


def visitor_session_start(
    *,
    site: SiteInfo,
    visitor_token: str | None = None,
    identity: VisitorIdentity | None = None,
    context: BrowserContext | None = None,
    user_agent: str | None = None,
    address: str | None = None,
    choice: ConversationChoice = ConversationChoice(),
) -> VisitorSession:
    """Start or resume a widget session: the visitor, their private conversation and a token.

    A valid previous token of this site keeps its visitor and conversation; an invalid, expired
    or other site's token starts a new visitor. A verified identity keeps one visitor (and so
    their conversations) per user id across devices. `choice` opens another of the visitor's
    conversations, or a new one. The browser's `context`, its user agent and
    its address's place are stored on the visitor and told to the agents. Runs in the site's
    tenant schema.
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
            if identity.attributes is not None:
                visitor.attributes = identity.attributes
        visitor_context_fill(visitor, context=context, user_agent=user_agent, address=address)
        visitor.save()
        conversation = _private_conversation(
            site,
            visitor,
            choice=choice,
            token_room=previous.conversation if previous is not None else None,
            address=address,
        )
        # The agents' visitor panel follows a visitor who comes back (another page, a reload).
        transaction.on_commit(lambda: events.publish_visitor(site.tenant_id, conversation, visitor))
    token, claims = token_issue(
        tenant_id=site.tenant_id,
        site_id=site.site_id,
        visitor_id=str(visitor.id),
        conversation=conversation.room,
        user_id=visitor.external_id,
    )
    return VisitorSession(visitor=visitor, conversation=conversation, token=token, claims=claims)
