"""What an operator does to a whole tenant that no lower layer may do alone: delete it."""

from django.db import transaction

from core.errors import BadRequest
from tenants.billing.services import subscription_cancel_now
from tenants.models import ApiKey, Site, Tenant
from tenants.services import site_delete


def tenant_delete(*, tenant: Tenant, confirm_name: str) -> dict:
    """Delete the tenant for good: its Stripe subscription is cancelled, every site (and its
    keys) deleted, its open sockets closed (4403), its API keys revoked and its schema dropped.
    `confirm_name` must be the tenant's name typed in full."""
    if confirm_name != tenant.name:
        raise BadRequest("confirm: type the tenant's name in full to delete it")
    cancelled = subscription_cancel_now(tenant_id=tenant.pk)
    with transaction.atomic():
        for site in Site.objects.filter(tenant=tenant):
            site_delete(site=site)
        revoked = ApiKey.objects.filter(tenant=tenant).delete()[0]
        schema = tenant.schema_name
        tenant.delete(force_drop=True)
    return {"deleted": tenant.slug, "schema_dropped": schema, "api_keys_revoked": revoked,
            "stripe_subscription_cancelled": cancelled}  # fmt: skip
