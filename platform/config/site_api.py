"""The site-key API (`/api/v1/`): a tenant's server manages sites, reads and sends messages,
and subscribes webhooks, authenticated by `Authorization: Bearer sk_...`.

Assembled here, above the apps, from their routers: sites and webhooks live with the public
schema (`tenants.api`), conversations, visitors and canned replies with the chat
(`widget.site_api`).
OpenAPI document: `/api/v1/openapi.json`. Errors follow the contract (core/api.py).
"""

from django.conf import settings

from core.api import ParleyAPI
from tenants.api import audit, sites, webhooks
from tenants.api.auth import ApiKeyAuth
from widget.site_api import actions, canned_replies, conversations

site_api = ParleyAPI(
    title="Parley site-key API",
    version="1",
    description="Manage sites, read and send messages, subscribe webhooks. "
    "Authenticate with `Authorization: Bearer sk_...`.",
    urls_namespace="site_api",
    auth=ApiKeyAuth(),
    max_body_bytes=settings.SITE_API_MAX_BODY_BYTES,
)
site_api.add_router("", sites.router)
site_api.add_router("", conversations.router)
site_api.add_router("", actions.router)
site_api.add_router("", webhooks.router)
site_api.add_router("", audit.router)
site_api.add_router("", canned_replies.router)
