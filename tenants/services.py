"""Services that change the public schema: tenants with their schema, sites and their keys,
API keys, webhooks."""

import re
from datetime import timedelta
from urllib.parse import urlsplit

import httpx
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django_tenants.utils import schema_exists

from core import events
from core.errors import BadRequest
from tenants import hours
from tenants.audit import audit_record
from tenants.billing.limits import ensure_can_add_site
from tenants.billing.services import subscription_cancel_now
from tenants.keys import api_key_digest, new_api_key, new_identity_secret, new_site_key
from tenants.models import (
    ATTACHMENT_TYPES_ALLOWED,
    ApiKey,
    Domain,
    Site,
    SiteKey,
    Tenant,
    Webhook,
)
from tenants.origins import normalize_allowed_origin
from tenants.prechat import prechat_fields_parse
from tenants.status import status_forget
from tenants.webhooks import new_webhook_secret, webhook_deliveries_cancel

SLUG_PATTERN = re.compile(r"^[a-z][a-z0-9-]{1,38}[a-z0-9]$")
# Business hours, the away message and the forms (tenants.hours, tenants.prechat).
AVAILABILITY_FIELDS = (
    "time_zone",
    "hours_enabled",
    "weekly_hours",
    "closed_dates",
    "away_message",
    "out_of_hours",
    "offline_form_when_unavailable",
    "prechat",
    "prechat_fields",
)
SITE_EDITABLE = (
    "name",
    "allowed_origins",
    "public_rooms",
    "require_identity",
    "color",
    "greeting",
    "position",
    "locale",
    "typing_preview",
    "auto_assign",
    "transcript_on_close",
    "consent_required",
    "consent_text",
    *AVAILABILITY_FIELDS,
    "attachment_types",
)
MAX_WEBHOOKS_PER_TENANT = 20
# Host names a tenant may not take: the platform's own, and names people would trust as ours.
RESERVED_SLUGS = frozenset(
    {
        "about", "account", "accounts", "admin", "administrator", "api", "app", "apps", "assets",
        "auth", "billing", "blog", "cdn", "chat", "dashboard", "demo", "dev", "docs", "email",
        "ftp", "help", "imap", "internal", "login", "mail", "media", "mx", "news", "ns1", "ns2",
        "parley", "pop", "pop3", "public", "root", "security", "signup", "smtp", "staging",
        "static", "status", "support", "system", "test", "webmail", "widget", "ws", "www",
    }
)  # fmt: skip


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


def tenant_slug_problem(slug: str) -> str | None:
    """Why a slug cannot be a new tenant's, as a sentence for the signup form; None if it can."""
    if not SLUG_PATTERN.match(slug):
        return (
            "Use 3 to 40 lowercase letters, digits and hyphens, starting with a letter "
            "and not ending with a hyphen."
        )
    if slug in RESERVED_SLUGS:
        return f"“{slug}” is reserved. Please choose another."
    taken = (
        Tenant.objects.filter(slug=slug).exists()
        or Domain.objects.filter(domain=tenant_host(slug)).exists()
        or schema_exists(schema_name_for(slug))
    )
    if taken:
        return f"“{slug}” is already taken. Please choose another."
    return None


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
    typing_preview: bool = False,
    auto_assign: bool = False,
    transcript_on_close: bool = False,
    consent_required: bool = False,
    consent_text: str = "",
    attachment_types: list[str] | None = None,
    **availability,
) -> Site:
    """Create a site with a fresh site key and identity secret: the one way a site is made (the
    dashboard, the site-key API and the demo call it). Origins are validated here (InvalidOrigin),
    the appearance too (ValidationError naming the field); appearance left as None takes the
    model's default; so do the business hours and forms (`AVAILABILITY_FIELDS`). Past the plan's
    sites: `PlanLimit`."""
    unknown = set(availability) - set(AVAILABILITY_FIELDS)
    if unknown:
        raise TypeError(f"site_create() got unknown fields: {sorted(unknown)}")
    appearance = {"color": color, "greeting": greeting, "position": position, "locale": locale}
    appearance = {field: value for field, value in appearance.items() if value is not None}
    appearance |= {field: value for field, value in availability.items() if value is not None}
    if attachment_types is not None:
        appearance["attachment_types"] = attachment_types
    origins = _allowed_origins(allowed_origins)
    _raise_site_problems(appearance)
    ensure_can_add_site(tenant)  # locks the tenant row until this transaction ends
    site = Site.objects.create(
        tenant=tenant,
        name=name,
        allowed_origins=origins,
        public_rooms=public_rooms,
        require_identity=require_identity,
        typing_preview=typing_preview,
        auto_assign=auto_assign,
        transcript_on_close=transcript_on_close,
        consent_required=consent_required,
        consent_text=consent_text.strip(),
        identity_secret=new_identity_secret(),
        **appearance,
    )
    SiteKey.objects.create(site=site, key=new_site_key())
    audit_record(
        "site.created", tenant=tenant, target=_site_label(site), details={"origins": origins}
    )
    return site


def _audit_value(value):
    """A setting as the audit entry's JSON holds it (closed dates as ISO strings)."""
    if isinstance(value, list):
        return [item.isoformat() if hasattr(item, "isoformat") else item for item in value]
    return value


def _site_label(site: Site) -> str:
    return f"site {site.pk} ({site.name})"


def _allowed_origins(entries: list[str]) -> list[str]:
    """Each entry in canonical form, once, in the order given (InvalidOrigin names a bad one)."""
    return list(dict.fromkeys(normalize_allowed_origin(entry) for entry in entries))


SITE_COLOR_PATTERN = re.compile(r"^#[0-9a-fA-F]{6}$")
SITE_LOCALE_PATTERN = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")


def _raise_site_problems(changes: dict) -> None:
    """ValidationError naming each appearance, hours or form field whose value the widget could
    not use. The schedule, dates and fields are normalised in `changes` (sorted, keys given)."""
    problems = {}
    for field, parse in (
        ("weekly_hours", lambda value: hours.weekly_json(hours.weekly_parse(value))),
        (
            "closed_dates",
            lambda value: [d.isoformat() for d in sorted(hours.closed_dates_parse(value))],
        ),
        ("prechat_fields", prechat_fields_parse),
    ):
        if field in changes:
            try:
                changes[field] = parse(changes[field])
            except ValueError as error:
                problems[field] = [str(error)]
    if "time_zone" in changes and hours.time_zone_problem(changes["time_zone"]):
        problems["time_zone"] = [f"Use {hours.time_zone_problem(changes['time_zone'])}."]
    for field, choices in (("out_of_hours", Site.OutOfHours), ("prechat", Site.Prechat)):
        if field in changes and changes[field] not in choices.values:
            problems[field] = [f"One of {', '.join(choices.values)}."]
    if "color" in changes and not SITE_COLOR_PATTERN.match(changes["color"]):
        problems["color"] = ["Use a color like #4f46e5."]
    if "position" in changes and changes["position"] not in Site.Position.values:
        problems["position"] = ["Choose bottom right or bottom left."]
    if "locale" in changes and not SITE_LOCALE_PATTERN.match(changes["locale"]):
        problems["locale"] = ["Use a language code like en or pt-BR."]
    if "attachment_types" in changes:
        types = changes["attachment_types"] = list(dict.fromkeys(changes["attachment_types"]))
        unknown = [kind for kind in types if kind not in ATTACHMENT_TYPES_ALLOWED]
        if unknown:
            problems["attachment_types"] = [
                f"Unknown or unsafe types: {', '.join(unknown)}. "
                f"Choose among {', '.join(ATTACHMENT_TYPES_ALLOWED)}."
            ]
    if problems:
        raise ValidationError(problems)


@transaction.atomic
def site_update(*, site: Site, **changes) -> Site:
    """Change a site's settings. Origins are validated and normalised (InvalidOrigin); any other
    bad value raises ValidationError naming its field."""
    unknown = set(changes) - set(SITE_EDITABLE)
    if unknown:
        raise TypeError(f"site_update() got unknown fields: {sorted(unknown)}")
    if "allowed_origins" in changes:
        changes["allowed_origins"] = _allowed_origins(changes["allowed_origins"])
    if "consent_text" in changes:
        changes["consent_text"] = changes["consent_text"].strip()
    _raise_site_problems(changes)
    before = {field: _audit_value(getattr(site, field)) for field in changes}
    for field, value in changes.items():
        setattr(site, field, value)
    site.full_clean(exclude=["tenant"])
    site.save()
    changed = {
        field: {"from": before[field], "to": value}
        for field, value in changes.items()
        if before[field] != value
    }
    if changed:
        audit_record("site.updated", tenant=site.tenant, target=_site_label(site), details=changed)
    return site


@transaction.atomic
def site_delete(*, site: Site) -> None:
    """Delete a site; its keys stop working at once and its open sockets close (4403) when the
    transaction commits. Its conversations stay in the tenant's schema (they are the tenant's
    history) until the tenant erases their visitors."""
    tenant_id, site_id = site.tenant_id, site.id
    audit_record("site.deleted", tenant=site.tenant, target=_site_label(site))
    site.delete()
    events.send_after_commit(events.site_deleted, tenant_id=tenant_id, site_id=site_id)


@transaction.atomic
def site_rotate_key(*, site: Site, grace_seconds: int | None = None) -> SiteKey:
    """Issue a new site key; the live old ones stay valid for `grace_seconds`, then are refused."""
    grace = settings.SITE_KEY_GRACE_SECONDS if grace_seconds is None else grace_seconds
    expires_at = timezone.now() + timedelta(seconds=grace)
    for old in site.keys.filter(revoked_at__isnull=True):
        if old.expires_at is None or old.expires_at > expires_at:
            old.expires_at = expires_at
            old.save(update_fields=["expires_at"])
    audit_record(
        "site.key_rotated",
        tenant=site.tenant,
        target=_site_label(site),
        details={"old_keys_expire_at": expires_at.isoformat()},
    )
    return SiteKey.objects.create(site=site, key=new_site_key())


@transaction.atomic
def site_revoke_keys(*, site: Site) -> None:
    """Refuse every key of the site at once (a leaked key, a deleted site); its open chat
    sockets are closed (4403) when the transaction commits."""
    for key in site.keys.filter(revoked_at__isnull=True):
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
    audit_record("site.keys_revoked", tenant=site.tenant, target=_site_label(site))
    events.send_after_commit(events.site_keys_revoked, tenant_id=site.tenant_id, site_id=site.id)


@transaction.atomic
def site_new_identity_secret(*, site: Site) -> str:
    """Replace the site's identity secret and return it (shown once to the tenant)."""
    site.identity_secret = new_identity_secret()
    site.save(update_fields=["identity_secret", "updated_at"])
    audit_record("site.identity_secret_replaced", tenant=site.tenant, target=_site_label(site))
    return site.identity_secret


def webhook_create(*, tenant: Tenant, url: str, events: list[str]) -> Webhook:
    """Subscribe an endpoint to events. The returned row's `secret` is shown to the tenant once.
    The URL is parsed by the HTTP client that will call it: one it refuses is refused here."""
    try:
        parts = httpx.URL(url)
    except httpx.InvalidURL:
        raise BadRequest("url: not a URL") from None
    if parts.scheme not in ("http", "https") or not parts.host:
        raise BadRequest("url: must be http(s)://host/...")
    if parts.userinfo:
        raise BadRequest("url: must not carry credentials")
    if tenant.webhooks.count() >= MAX_WEBHOOKS_PER_TENANT:
        raise BadRequest(f"A tenant has at most {MAX_WEBHOOKS_PER_TENANT} webhooks.")
    webhook = Webhook.objects.create(
        tenant=tenant, url=url, events=list(dict.fromkeys(events)), secret=new_webhook_secret()
    )
    audit_record(
        "webhook.created", tenant=tenant, target=f"webhook {webhook.pk}",
        details={"url": url, "events": webhook.events},
    )  # fmt: skip
    return webhook


@transaction.atomic
def webhook_delete(*, webhook: Webhook) -> None:
    audit_record(
        "webhook.deleted", tenant=webhook.tenant, target=f"webhook {webhook.pk}",
        details={"url": webhook.url},
    )  # fmt: skip
    webhook.delete()  # with its delivery log; pending deliveries are not sent


@transaction.atomic
def webhook_rotate_secret(*, webhook: Webhook) -> str:
    """A new signing secret, returned to be shown once; the previous one stops signing now
    (deliveries are signed when they are sent, so pending ones carry the new one)."""
    webhook.secret = new_webhook_secret()
    webhook.save(update_fields=["secret"])
    audit_record("webhook.secret_rotated", tenant=webhook.tenant, target=f"webhook {webhook.pk}")
    return webhook.secret


@transaction.atomic
def webhook_set_enabled(*, webhook: Webhook, enabled: bool) -> Webhook:
    """Disable a webhook (it receives nothing; what was waiting to be sent is not sent, and says
    so in its log) or enable it again (it receives events from now on)."""
    if enabled == (webhook.disabled_at is None):
        return webhook
    webhook.disabled_at = None if enabled else timezone.now()
    webhook.save(update_fields=["disabled_at"])
    if not enabled:
        webhook_deliveries_cancel(webhook=webhook, reason="not sent: the webhook was disabled")
    audit_record(
        "webhook.enabled" if enabled else "webhook.disabled",
        tenant=webhook.tenant, target=f"webhook {webhook.pk}", details={"url": webhook.url},
    )  # fmt: skip
    return webhook


def api_key_create(*, tenant: Tenant, name: str) -> tuple[ApiKey, str]:
    """Create an API key. Returns the row and the key itself, which is never stored."""
    api_key = new_api_key()
    row = ApiKey.objects.create(
        tenant=tenant, name=name, prefix=api_key[:8], key_hash=api_key_digest(api_key)
    )
    audit_record("api_key.created", tenant=tenant, target=f"API key {row.prefix}… ({name})")
    return row, api_key


@transaction.atomic
def api_key_revoke(*, api_key: ApiKey) -> None:
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at"])
        audit_record(
            "api_key.revoked", tenant=api_key.tenant,
            target=f"API key {api_key.prefix}… ({api_key.name})",
        )  # fmt: skip


@transaction.atomic
def secrets_reencrypt() -> int:
    """Write every stored identity and webhook secret again, encrypted with the current
    SECRET_KEY (reading accepts SECRET_KEY_FALLBACKS). Run after a SECRET_KEY rotation, before
    the old key leaves the fallbacks. Returns how many secrets were written."""
    written = 0
    for model, field in ((Site, "identity_secret"), (Webhook, "secret")):
        for pk, secret in model.objects.exclude(**{field: ""}).values_list("pk", field):
            model.objects.filter(pk=pk).update(**{field: secret})
            written += 1
    return written


# --- The operator's actions on a tenant -----------------------------------------------------------


@transaction.atomic
def tenant_suspend(*, tenant: Tenant, reason: str = "") -> Tenant:
    """Suspend the tenant: its widget sessions, socket handshakes and API keys are refused
    (`tenant_suspended`) within `TENANT_STATUS_CACHE_SECONDS` on every worker, and its open chat
    sockets close (4423) as soon as this commits. Its data and dashboard stay."""
    tenant = Tenant.objects.select_for_update().get(pk=tenant.pk)
    tenant.suspended_at = tenant.suspended_at or timezone.now()
    tenant.suspended_reason = reason.strip()[:300]
    tenant.save(update_fields=["suspended_at", "suspended_reason"])
    audit_record("tenant.suspended", tenant=tenant, details={"reason": tenant.suspended_reason})
    site_ids = list(Site.objects.filter(tenant=tenant).values_list("id", flat=True))
    transaction.on_commit(lambda: status_forget(tenant.pk))
    events.send_after_commit(events.tenant_suspended, tenant_id=tenant.pk, site_ids=site_ids)
    return tenant


@transaction.atomic
def tenant_resume(*, tenant: Tenant) -> Tenant:
    """Lift a suspension: everything works again within `TENANT_STATUS_CACHE_SECONDS`."""
    tenant = Tenant.objects.select_for_update().get(pk=tenant.pk)
    tenant.suspended_at = None
    tenant.suspended_reason = ""
    tenant.save(update_fields=["suspended_at", "suspended_reason"])
    audit_record("tenant.resumed", tenant=tenant)
    transaction.on_commit(lambda: status_forget(tenant.pk))
    return tenant


def tenant_delete(*, tenant: Tenant, confirm_name: str) -> dict:
    """Delete the tenant for good: its Stripe subscription is cancelled, every site (and its
    keys) deleted, its open sockets closed (4403), its API keys revoked and its schema dropped.
    `confirm_name` must be the tenant's name typed in full."""
    if confirm_name != tenant.name:
        raise BadRequest("confirm: type the tenant's name in full to delete it")
    cancelled = subscription_cancel_now(tenant_id=tenant.pk)
    with transaction.atomic():
        audit_record("tenant.deleted", tenant=tenant, details={"name": tenant.name})
        for site in Site.objects.filter(tenant=tenant):
            site_delete(site=site)
        revoked = ApiKey.objects.filter(tenant=tenant).delete()[0]
        schema = tenant.schema_name
        events.send_after_commit(events.tenant_deleted, tenant_id=tenant.pk, schema_name=schema)
        tenant.delete(force_drop=True)
    return {"deleted": tenant.slug, "schema_dropped": schema, "api_keys_revoked": revoked,
            "stripe_subscription_cancelled": cancelled}  # fmt: skip
