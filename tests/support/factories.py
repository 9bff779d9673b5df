"""Test data for the widget: sites, visitors with their conversation and token, agents.

Built directly with the models and services (not through the session endpoint), in the tenant's
schema. Sync: call them from sync fixtures, or through database_sync_to_async.
"""

import uuid
from dataclasses import dataclass
from importlib import import_module

from django.conf import settings
from django.contrib.auth import (
    BACKEND_SESSION_KEY,
    HASH_SESSION_KEY,
    SESSION_KEY,
    get_user_model,
)
from django_tenants.utils import schema_context

from tenants.models import Site, Tenant
from tenants.selectors import site_current_key
from tenants.services import site_create
from tenants.tokens import token_issue
from widget.models import Conversation, Visitor
from widget.services.messages import message_post

ORIGIN = "https://shop.example.com"


@dataclass(frozen=True)
class SiteFixture:
    tenant: Tenant
    site: Site
    key: str
    origin: str = ORIGIN


@dataclass(frozen=True)
class VisitorFixture:
    visitor_id: str
    room: str
    token: str
    name: str


@dataclass(frozen=True)
class AgentFixture:
    user_id: int
    email: str
    session_key: str
    host: str


def make_site(
    tenant: Tenant, *, public_rooms: bool = False, name: str = "Shop", origin: str = ORIGIN
) -> SiteFixture:
    site = site_create(
        tenant=tenant, name=name, allowed_origins=[origin], public_rooms=public_rooms
    )
    return SiteFixture(tenant=tenant, site=site, key=site_current_key(site).key, origin=origin)


def make_visitor(site: SiteFixture, *, name: str = "", room: str | None = None) -> VisitorFixture:
    """A visitor of the site with a token; with its private conversation unless `room` (a public
    room) is given."""
    with schema_context(site.tenant.schema_name):
        visitor = Visitor.objects.create(site_id=site.site.id, name=name)
        private_room = f"cv_{uuid.uuid4().hex[:20]}"
        Conversation.objects.create(room=private_room, site_id=site.site.id, visitor=visitor)
    token, _ = token_issue(
        tenant_id=site.tenant.id,
        site_id=site.site.id,
        visitor_id=str(visitor.id),
        conversation=private_room,
    )
    return VisitorFixture(
        visitor_id=str(visitor.id), room=room or private_room, token=token, name=name
    )


def make_agent(tenant: Tenant, *, email: str | None = None, role: str = "agent") -> AgentFixture:
    """A dashboard user of the tenant with a signed-in session (as after the login page)."""
    email = email or f"agent-{uuid.uuid4().hex[:8]}@{tenant.slug}.test"
    with schema_context(tenant.schema_name):
        user = get_user_model().objects.create_user(
            email=email, password="x", display_name="Ada", role=role
        )
    host = tenant.domains.get(is_primary=True).domain
    return _signed_in(tenant, user, host)


def another_session(tenant: Tenant, agent: AgentFixture) -> AgentFixture:
    """The same member signed in once more (another browser): a session of their own."""
    with schema_context(tenant.schema_name):
        user = get_user_model().objects.get(pk=agent.user_id)
    return _signed_in(tenant, user, agent.host)


def _signed_in(tenant: Tenant, user, host: str) -> AgentFixture:
    with schema_context(tenant.schema_name):
        session = import_module(settings.SESSION_ENGINE).SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.save()
    return AgentFixture(
        user_id=user.pk, email=user.email, session_key=session.session_key, host=host
    )


def visitors_with_tokens(site: SiteFixture, count: int) -> list[tuple[str, str]]:
    """(private room, token) of `count` new visitors of the site (bulk inserts, committed)."""
    with schema_context(site.tenant.schema_name):
        visitors = Visitor.objects.bulk_create(
            [Visitor(site_id=site.site.id) for _ in range(count)]
        )
        conversations = Conversation.objects.bulk_create(
            [
                Conversation(room=f"cv_{uuid.uuid4().hex[:20]}", site_id=site.site.id, visitor=v)
                for v in visitors
            ]
        )
    return [
        (
            conversation.room,
            token_issue(
                tenant_id=site.tenant.id,
                site_id=site.site.id,
                visitor_id=str(conversation.visitor_id),
                conversation=conversation.room,
            )[0],
        )
        for conversation in conversations
    ]


def visitor_conversation(
    tenant: Tenant,
    *,
    room: str,
    texts: tuple[tuple[str, str], ...] = (),
    site_id: int = 1,
    agent_name: str = "Ann",
    **visitor_fields,
) -> Conversation:
    """A visitor (with `visitor_fields`: name, email, page_url...) and their conversation in
    `room`, with the messages `texts` as (author_kind, text) stored by the message writer, as the
    inbox sees them (unread, last activity). Returns the conversation as stored."""
    with schema_context(tenant.schema_name):
        visitor = Visitor.objects.create(site_id=site_id, **visitor_fields)
        conversation = Conversation.objects.create(room=room, site_id=site_id, visitor=visitor)
        for kind, text in texts:
            by_visitor = kind == "visitor"
            message_post(
                tenant_id=tenant.id,
                conversation=conversation,
                text=text,
                author_kind=kind,
                author_id=str(visitor.id) if by_visitor else "",
                author_name=visitor.name if by_visitor else agent_name,
            )
        conversation.refresh_from_db()
        return conversation
