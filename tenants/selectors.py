"""Read-only queries of the public schema."""

from django.db.models import Q, QuerySet
from django.utils import timezone

from core.errors import NotFound
from tenants.models import Site, SiteKey, Tenant, Webhook, WebhookDelivery


def site_current_key(site: Site) -> SiteKey | None:
    """The site's newest live key: the one to put in the embed snippet."""
    return (
        site.keys.filter(revoked_at__isnull=True)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now()))
        .order_by("-created_at", "-id")
        .first()
    )


def site_live_keys(site: Site) -> list[SiteKey]:
    """The site's live keys, newest first. Uses prefetched keys when there are some."""
    now = timezone.now()
    live = [
        key
        for key in site.keys.all()
        if key.revoked_at is None and (key.expires_at is None or key.expires_at > now)
    ]
    return sorted(live, key=lambda key: (key.created_at, key.id), reverse=True)


def site_list(*, tenant: Tenant) -> QuerySet:
    return Site.objects.filter(tenant=tenant).prefetch_related("keys")


def site_get(*, tenant: Tenant, site_id: int) -> Site:
    """One of the tenant's sites; another tenant's site is as unknown as a missing one."""
    site = site_list(tenant=tenant).filter(pk=site_id).first()
    if site is None:
        raise NotFound("No site has this id.")
    return site


def webhook_list(*, tenant: Tenant) -> QuerySet:
    return Webhook.objects.filter(tenant=tenant)


def webhook_get(*, tenant: Tenant, webhook_id: int) -> Webhook:
    webhook = webhook_list(tenant=tenant).filter(pk=webhook_id).first()
    if webhook is None:
        raise NotFound("No webhook has this id.")
    return webhook


def webhook_deliveries(*, webhook: Webhook) -> QuerySet:
    return WebhookDelivery.objects.filter(webhook=webhook)


def site_sends_transcripts(*, site_id: int | None) -> bool:
    """Whether the site emails the transcript when a conversation closes
    (`Site.transcript_on_close`)."""
    if site_id is None:
        return False
    return Site.objects.filter(pk=site_id, transcript_on_close=True).exists()


def site_auto_assigns(*, site_id: int | None) -> bool:
    """Whether the site gives new conversations to online agents in turn (`Site.auto_assign`)."""
    if site_id is None:
        return False
    return Site.objects.filter(pk=site_id, auto_assign=True).exists()


def site_attachment_types(*, site_id: int) -> tuple[str, ...]:
    """The types of file the site accepts as attachments (none for a site that is gone)."""
    types = Site.objects.filter(pk=site_id).values_list("attachment_types", flat=True).first()
    return tuple(types or ())
