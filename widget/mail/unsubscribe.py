"""Unsubscribe links: `<platform>/email/unsubscribe/<token>/`, the token signed with
django.core.signing (salt `parley.email.unsubscribe`) over the tenant and the visitor, or the
tenant and a member for the agents' emails. No expiry: the link of an old email still works.
The page itself belongs to the dashboard (`dashboard.views.email`); RFC 8058's one-click POST
comes to the same URL."""

from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.urls import reverse

SALT = "parley.email.unsubscribe"


@dataclass(frozen=True)
class Unsubscriber:
    tenant_id: int
    visitor_id: str | None = None
    member_id: int | None = None


def unsubscribe_url(
    *, tenant_id: int, visitor_id: object = None, member_id: int | None = None
) -> str:
    claim = {"t": tenant_id}
    if visitor_id is not None:
        claim["v"] = str(visitor_id)
    else:
        claim["m"] = member_id
    token = signing.dumps(claim, salt=SALT)
    path = reverse(
        "email-unsubscribe", kwargs={"token": token}, urlconf=settings.PUBLIC_SCHEMA_URLCONF
    )
    return settings.PLATFORM_URL.rstrip("/") + path


def unsubscribe_read(token: str) -> Unsubscriber | None:
    """Who the link is for, or None when it is not one Parley signed."""
    try:
        claim = signing.loads(token, salt=SALT)
    except signing.BadSignature:
        return None
    if not isinstance(claim, dict) or not isinstance(claim.get("t"), int):
        return None
    if isinstance(claim.get("v"), str):
        return Unsubscriber(tenant_id=claim["t"], visitor_id=claim["v"])
    if isinstance(claim.get("m"), int):
        return Unsubscriber(tenant_id=claim["t"], member_id=claim["m"])
    return None
