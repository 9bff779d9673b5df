"""The one place that answers "which site does this site key name?" on the hot path.

Every widget session request and every chat socket handshake asks it, so answers are cached in
process memory (bounded, for `SITE_CACHE_SECONDS`), unknown keys included, so a flood of made-up
keys does not reach the database either. A change to a site or its keys drops the cached entries
of this process when the transaction commits; other processes see it within the cache lifetime.
Rotation needs no invalidation: a rotated key's expiry is part of the cached answer.
"""

import logging
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.utils import timezone
from django_tenants.utils import schema_context

from core.caches import MISSING, ProcessCache
from core.db_thread import in_public
from core.errors import UnknownSiteKey
from tenants.hours import Schedule, schedule_parse
from tenants.models import SiteKey

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SiteInfo:
    """What the hot path needs to know of a site, read once from the public schema."""

    site_id: int
    tenant_id: int
    schema_name: str
    name: str
    allowed_origins: tuple[str, ...]
    public_rooms: bool
    require_identity: bool
    identity_secret: str
    color: str
    greeting: str
    position: str
    locale: str
    key: str
    key_expires_at: datetime | None
    # Agents see the visitor's draft (PROTOCOL.md, Typing preview).
    typing_preview: bool = False
    # The visitor's consent comes before any session (PROTOCOL.md, Consent).
    consent_required: bool = False
    consent_text: str = ""
    # The types of file its visitors may attach (Site.attachment_types).
    attachment_types: tuple[str, ...] = ()

    # Business hours (None: always open), and what the widget does out of them or with nobody
    # online; the pre-chat form (PROTOCOL.md, Status and forms).
    schedule: Schedule | None = None
    away_message: str = ""
    out_of_hours: str = "offline_form"
    offline_form_when_unavailable: bool = False
    prechat: str = "none"
    prechat_fields: tuple[dict, ...] = ()

    def key_live(self, now: datetime | None = None) -> bool:
        return self.key_expires_at is None or self.key_expires_at > (now or timezone.now())


# site key -> its site, or None for a key that names none
_sites: ProcessCache[str, SiteInfo | None] = ProcessCache(
    "sites", maxsize=50_000, ttl=settings.SITE_CACHE_SECONDS
)


def _load(key: str) -> SiteInfo | None:
    with schema_context(settings.PUBLIC_SCHEMA_NAME):
        row = (
            SiteKey.objects.select_related("site__tenant")
            .filter(key=key, revoked_at__isnull=True)
            .first()
        )
    if row is None:
        return None
    site = row.site
    return SiteInfo(
        site_id=site.id,
        tenant_id=site.tenant_id,
        schema_name=site.tenant.schema_name,
        name=site.name,
        allowed_origins=tuple(site.allowed_origins),
        public_rooms=site.public_rooms,
        require_identity=site.require_identity,
        identity_secret=site.identity_secret,
        color=site.color,
        greeting=site.greeting,
        position=site.position,
        locale=site.locale,
        key=row.key,
        key_expires_at=row.expires_at,
        typing_preview=site.typing_preview,
        consent_required=site.consent_required,
        consent_text=site.consent_text,
        schedule=_schedule(site),
        away_message=site.away_message,
        out_of_hours=site.out_of_hours,
        offline_form_when_unavailable=site.offline_form_when_unavailable,
        prechat=site.prechat,
        prechat_fields=tuple(site.prechat_fields or ()),
        attachment_types=tuple(site.attachment_types),
    )


def _schedule(site) -> Schedule | None:
    """The site's hours when it keeps them. Stored hours were validated when saved; should a
    time zone vanish from the system's database, the site counts as always open."""
    if not site.hours_enabled:
        return None
    try:
        return schedule_parse(
            time_zone=site.time_zone, weekly=site.weekly_hours, closed_dates=site.closed_dates
        )
    except ValueError:
        log.warning("site %s: stored business hours are unusable; always open", site.pk)
        return None


def _live_or_raise(info: SiteInfo | None) -> SiteInfo:
    if info is None or not info.key_live():
        raise UnknownSiteKey()
    return info


def site_for_key(key: object) -> SiteInfo:
    """The live site named by `key`, or UnknownSiteKey (unknown, revoked or past its grace)."""
    if not isinstance(key, str) or not key.startswith("pk_") or len(key) > 64:
        raise UnknownSiteKey()
    return _live_or_raise(_sites.get_or_load(key, lambda: _load(key)))


async def asite_for_key(key: object) -> SiteInfo:
    """`site_for_key` for async code: a cache hit costs no thread hop."""
    if isinstance(key, str):
        info = _sites.get(key, MISSING)
        if info is not MISSING:
            return _live_or_raise(info)
    return await in_public(site_for_key, key=key)


def site_cache_forget(*, site_id: int | None = None, key: str | None = None) -> None:
    """Drop this process's cached answers for a site (all its keys) or for one key."""
    _sites.pop_where(
        lambda cached_key, info: cached_key == key or (info is not None and info.site_id == site_id)
    )


def site_cache_clear() -> None:
    _sites.clear()
