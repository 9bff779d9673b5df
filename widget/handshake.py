"""Tenant resolution for sockets: the one module that decides, before a socket is accepted, which
tenant it belongs to and whether it may open at all.

- `ws/chat/<room>/?site_key=pk_…` (platform host, third-party pages): the site key names a site
  (cached: no query on a hit) and the page's `Origin` must be in that site's allow-list.
- `ws/agent/` (tenant host): the Host header names the tenant (cached Domain lookup), the Origin
  must be that same host, and the dashboard's Django session cookie must name an active user of
  that tenant who may use the inbox. Channels' AuthMiddlewareStack cannot do this: it would read
  the session table of whichever schema the shared database thread happens to be on. The agent
  socket reads its session again the same way while it is open (`session_agent`).

A refused handshake is answered with HTTP 403 before accept. An accepted one carries
`scope["tenant"]` (TenantRef) and `scope["site"]` (SiteInfo) or `scope["agent"]` (AgentRef).
"""

import logging
from dataclasses import dataclass, field
from http.cookies import CookieError, SimpleCookie
from importlib import import_module
from urllib.parse import parse_qs, urlsplit

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.contrib.auth import get_user
from django.http import HttpRequest

from accounts.roles import Capability, user_can
from core import metrics
from core.caches import MISSING, ProcessCache
from core.db_thread import in_public, in_tenant
from core.drain import is_draining
from core.errors import TenantSuspended, UnknownSiteKey
from tenants.models import Domain
from tenants.origins import origin_allowed
from tenants.site_directory import asite_for_key
from tenants.status import aensure_active

log = logging.getLogger(__name__)

# Consumers here fan out through widget.fanout, not the channel layer: naming an alias that is
# not configured makes Channels give them no layer (no per-socket channel, no receive loop).
NO_CHANNEL_LAYER = "parley.no-channel-layer"
TENANT_CACHE_SECONDS = 60


@dataclass(frozen=True)
class TenantRef:
    id: int
    schema_name: str


@dataclass(frozen=True)
class AgentRef:
    """The member a dashboard session names, as the agent socket was admitted."""

    id: str
    name: str
    role: str
    session_key: str = field(repr=False)  # a credential: never in a log line

    def same_access(self, current: "AgentRef | None") -> bool:
        """Whether the session, read again, still admits the same member with the same role."""
        return current is not None and (current.id, current.role) == (self.id, self.role)


class Denier(WebsocketDenier):
    """Refuses the handshake (HTTP 403)."""

    channel_layer_alias = NO_CHANNEL_LAYER


_deny = Denier.as_asgi()


async def deny(reason: str, scope, receive, send):
    """Refuse the handshake (HTTP 403), counted by `reason` (parley_handshakes_refused_total)."""
    metrics.HANDSHAKES_REFUSED.labels(reason).inc()
    log.debug("handshake refused: %s", reason)
    return await _deny(scope, receive, send)


async def deny_unknown_path(scope, receive, send):
    return await deny("unknown_path", scope, receive, send)


def _header(scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return value.decode("latin-1")
    return None


class ChatHandshake:
    """Admit `ws/chat` sockets of a live site key from one of the site's allowed origins."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if is_draining():
            return await deny("draining", scope, receive, send)
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        site_key = query.get("site_key", [None])[0]
        try:
            site = await asite_for_key(site_key)
        except UnknownSiteKey:
            return await deny("unknown_site_key", scope, receive, send)
        if not origin_allowed(_header(scope, b"origin"), list(site.allowed_origins)):
            return await deny("origin_not_allowed", scope, receive, send)
        try:
            await aensure_active(site.tenant_id)
        except TenantSuspended:
            return await deny("tenant_suspended", scope, receive, send)
        tenant = TenantRef(id=site.tenant_id, schema_name=site.schema_name)
        return await self.app(scope | {"site": site, "tenant": tenant}, receive, send)


# host name -> its tenant, or None for a host that names none
_tenants: ProcessCache[str, TenantRef | None] = ProcessCache(
    "tenants-by-host", maxsize=10_000, ttl=TENANT_CACHE_SECONDS
)


def _tenant_for_host(hostname: str) -> TenantRef | None:
    domain = Domain.objects.select_related("tenant").filter(domain=hostname).first()
    if domain is None or domain.tenant.schema_name == settings.PUBLIC_SCHEMA_NAME:
        return None
    return TenantRef(id=domain.tenant_id, schema_name=domain.tenant.schema_name)


def tenant_cache_clear() -> None:
    _tenants.clear()


async def tenant_for_host(hostname: str) -> TenantRef | None:
    tenant = _tenants.get(hostname, MISSING)
    if tenant is MISSING:
        tenant = await in_public(_tenant_for_host, hostname=hostname)
        _tenants.set(hostname, tenant)
    return tenant


def session_agent(session_key: str) -> AgentRef | None:
    """The member a live dashboard session names, if they may use the inbox (run in the tenant's
    schema, one unit). None for a session that is gone or expired, a user removed or made
    inactive, and a session whose auth hash no longer matches the user's (a new password);
    Django's `get_user` deletes such a session, as it would on the next page."""
    request = HttpRequest()
    request.session = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    user = get_user(request)
    if not user_can(user, Capability.INBOX):
        return None
    return AgentRef(id=str(user.pk), name=user.public_name, role=user.role, session_key=session_key)


def _same_origin(origin: str | None, host: str) -> bool:
    if not origin:
        return False
    parts = urlsplit(origin)
    return parts.scheme in ("http", "https") and parts.netloc.lower() == host


def _session_key(scope) -> str | None:
    cookie_header = _header(scope, b"cookie")
    if not cookie_header:
        return None
    try:
        cookies = SimpleCookie(cookie_header)
    except CookieError:
        return None
    morsel = cookies.get(settings.SESSION_COOKIE_NAME)
    return morsel.value if morsel else None


class AgentHandshake:
    """Admit `ws/agent/` sockets of a signed-in user of the tenant that owns the host name."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if is_draining():
            return await deny("draining", scope, receive, send)
        host = (_header(scope, b"host") or "").lower()
        hostname = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        tenant = await tenant_for_host(hostname) if hostname else None
        if tenant is None:
            return await deny("unknown_host", scope, receive, send)
        if not _same_origin(_header(scope, b"origin"), host):
            return await deny("origin_not_allowed", scope, receive, send)
        session_key = _session_key(scope)
        if not session_key:
            return await deny("no_session", scope, receive, send)
        agent = await in_tenant(tenant.schema_name, session_agent, session_key=session_key)
        if agent is None:
            return await deny("not_signed_in", scope, receive, send)
        return await self.app(scope | {"tenant": tenant, "agent": agent}, receive, send)
