"""Services that change the public schema: tenants with their schema, sites and their keys,
API keys, webhooks."""

import re
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.errors import BadRequest
from tenants.keys import api_key_digest, new_api_key, new_identity_secret, new_site_key
from tenants.models import ApiKey, Domain, Site, SiteKey, Tenant, Webhook
from tenants.origins import normalize_allowed_origin
from tenants.webhooks import new_webhook_secret
from widget import events

SLUG_PATTERN = re.compile(r"^[a-z][a-z0-9-]{1,38}[a-z0-9]$")
SITE_EDITABLE = (
    "name",
    "allowed_origins",
    "public_rooms",
    "require_identity",
    "color",
    "greeting",
    "position",
    "locale",
)
MAX_WEBHOOKS_PER_TENANT = 20


def schema_name_for(slug: str) -> str:
    """PostgreSQL schema of a tenant: `t_` + the slug with hyphens made underscores."""
    return "t_" + slug.replace("-", "_")


def tenant_host(slug: str) -> str:
    return f"{slug}.{settings.PLATFORM_HOST}"


def tenant_url(tenant: Tenant) -> str:
    """The tenant's dashboard URL: the platform URL with the tenant's slug as subdomain."""
    parts = urlsplit(settings.PLATFORM_URL)
    return f"{parts.scheme}://{tenant.slug}.{parts.netloc}"


@transaction.atomic
def public_tenant_ensure() -> Tenant:
    """The public schema's tenant row, reached at the platform host. Idempotent."""
    tenant, _ = Tenant.objects.get_or_create(
        schema_name=settings.PUBLIC_SCHEMA_NAME,
        defaults={"name": "Parley platform", "slug": "public"},
    )
    Domain.objects.get_or_create(
        domain=settings.PLATFORM_HOST, defaults={"tenant": tenant, "is_primary": True}
    )
    return tenant


def tenant_create(*, name: str, slug: str) -> Tenant:
    """Create a tenant, its schema (migrated) and its dashboard host `<slug>.<platform host>`."""
    if not SLUG_PATTERN.match(slug):
        raise ValueError(f"invalid tenant slug: {slug!r}")
    tenant = Tenant(schema_name=schema_name_for(slug), name=name, slug=slug)
    tenant.save(verbosity=0)
    Domain.objects.create(domain=tenant_host(slug), tenant=tenant, is_primary=True)
    return tenant


def tenant_get_or_create(*, name: str, slug: str) -> tuple[Tenant, bool]:
    """The tenant with this slug, created (with its schema) when it does not exist yet."""
    existing = Tenant.objects.filter(slug=slug).first()
    if existing is not None:
        return existing, False
    return tenant_create(name=name, slug=slug), True


@transaction.atomic
def site_create(
    *,
    tenant: Tenant,
    name: str,
    allowed_origins: list[str],
    public_rooms: bool = False,
    require_identity: bool = False,
    color: str | None = None,
    greeting: str | None = None,
    position: str | None = None,
    locale: str | None = None,
) -> Site:
    """Create a site with a fresh site key and identity secret. Origins are validated here.
    Appearance left as None takes the model's default."""
    appearance = {"color": color, "greeting": greeting, "position": position, "locale": locale}
    site = Site.objects.create(
        tenant=tenant,
        name=name,
        allowed_origins=_allowed_origins(allowed_origins),
        public_rooms=public_rooms,
        require_identity=require_identity,
        identity_secret=new_identity_secret(),
        **{field: value for field, value in appearance.items() if value is not None},
    )
    SiteKey.objects.create(site=site, key=new_site_key())
    return site


def _allowed_origins(entries: list[str]) -> list[str]:
    """Each entry in canonical form, once, in the order given (InvalidOrigin names a bad one)."""
    return list(dict.fromkeys(normalize_allowed_origin(entry) for entry in entries))


def site_update(*, site: Site, **changes) -> Site:
    """Change the given fields of a site (those of SITE_EDITABLE); origins are validated."""
    unknown = set(changes) - set(SITE_EDITABLE)
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    if "allowed_origins" in changes:
        changes["allowed_origins"] = _allowed_origins(changes["allowed_origins"])
    for field, value in changes.items():
        setattr(site, field, value)
    site.save(update_fields=[*changes, "updated_at"])
    return site


def site_delete(*, site: Site) -> None:
    """Delete a site; its keys stop working at once. Its conversations stay in the tenant's
    schema (they are the tenant's history) until the tenant erases their visitors."""
    site.delete()


@transaction.atomic
def site_rotate_key(*, site: Site, grace_seconds: int | None = None) -> SiteKey:
    """Issue a new site key; the live old ones stay valid for `grace_seconds`, then are refused."""
    grace = settings.SITE_KEY_GRACE_SECONDS if grace_seconds is None else grace_seconds
    expires_at = timezone.now() + timedelta(seconds=grace)
    for old in site.keys.filter(revoked_at__isnull=True):
        if old.expires_at is None or old.expires_at > expires_at:
            old.expires_at = expires_at
            old.save(update_fields=["expires_at"])
    return SiteKey.objects.create(site=site, key=new_site_key())


@transaction.atomic
def site_revoke_keys(*, site: Site) -> None:
    """Refuse every key of the site at once (a leaked key, a deleted site); its open chat
    sockets are closed (4403) when the transaction commits."""
    for key in site.keys.filter(revoked_at__isnull=True):
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
    events.publish_site_keys_revoked(site.tenant_id, site.id)


def site_new_identity_secret(*, site: Site) -> str:
    """Replace the site's identity secret and return it (shown once to the tenant)."""
    site.identity_secret = new_identity_secret()
    site.save(update_fields=["identity_secret", "updated_at"])
    return site.identity_secret


def webhook_create(*, tenant: Tenant, url: str, events: list[str]) -> Webhook:
    """Subscribe an endpoint to events. The returned row's `secret` is shown to the tenant once."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - parsing the port is what refuses a malformed one
    except ValueError:
        raise BadRequest("url: not a URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BadRequest("url: must be http(s)://host/...")
    if parts.username or parts.password:
        raise BadRequest("url: must not carry credentials")
    if tenant.webhooks.count() >= MAX_WEBHOOKS_PER_TENANT:
        raise BadRequest(f"A tenant has at most {MAX_WEBHOOKS_PER_TENANT} webhooks.")
    return Webhook.objects.create(
        tenant=tenant, url=url, events=list(dict.fromkeys(events)), secret=new_webhook_secret()
    )


def webhook_delete(*, webhook: Webhook) -> None:
    webhook.delete()  # with its delivery log; pending deliveries are not sent


def api_key_create(*, tenant: Tenant, name: str) -> tuple[ApiKey, str]:
    """Create an API key. Returns the row and the key itself, which is never stored."""
    api_key = new_api_key()
    row = ApiKey.objects.create(
        tenant=tenant, name=name, prefix=api_key[:8], key_hash=api_key_digest(api_key)
    )
    return row, api_key


def api_key_revoke(*, api_key: ApiKey) -> None:
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at"])
