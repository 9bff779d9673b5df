"""Read-only queries of the public schema."""

from django.db.models import Q
from django.utils import timezone

from tenants.models import Site, SiteKey


def site_current_key(site: Site) -> SiteKey | None:
    """The site's newest live key: the one to put in the embed snippet."""
    return (
        site.keys.filter(revoked_at__isnull=True)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now()))
        .order_by("-created_at", "-id")
        .first()
    )
