"""Bearer authentication of the site-key API: `Authorization: Bearer sk_...`."""

from datetime import timedelta

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone
from ninja.security import HttpBearer

from core.actors import Actor, act_as, current_actor
from core.errors import InvalidToken
from core.ratelimit import CacheWindow
from tenants.keys import API_KEY_PREFIX, api_key_digest
from tenants.models import ApiKey
from tenants.status import ensure_active

# `last_used_at` is for the tenant's eyes ("used 3 minutes ago"): writing it at most this often
# keeps a busy key from costing an UPDATE per request.
LAST_USED_PRECISION = timedelta(minutes=1)


def current_address() -> str:
    """The client's address, as the request's actor (`core.middleware.ActorMiddleware`) has it."""
    return current_actor().address


class ApiKeyAuth(HttpBearer):
    """Finds the API key by its digest. `request.auth` is the ApiKey, with its tenant."""

    def authenticate(self, request: HttpRequest, token: str) -> ApiKey:
        if not token.startswith(API_KEY_PREFIX) or len(token) > 128:
            raise InvalidToken("The API key is missing or invalid.")
        api_key = (
            ApiKey.objects.select_related("tenant")
            .filter(key_hash=api_key_digest(token), revoked_at__isnull=True)
            .first()
        )
        if api_key is None:
            raise InvalidToken("The API key is unknown or revoked.")
        ensure_active(api_key.tenant_id)
        act_as(Actor("api_key", f"API key {api_key.prefix}… ({api_key.name})", current_address()))
        CacheWindow("api-key", settings.SITE_API_RATE_PER_KEY, 60).take(str(api_key.pk))
        now = timezone.now()
        if api_key.last_used_at is None or now - api_key.last_used_at > LAST_USED_PRECISION:
            ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        return api_key
