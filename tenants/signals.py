"""Keep the hot-path site cache honest: forget a site when it or its keys change. And after the
public schema is migrated, make sure the platform host is served (its tenant row and domain)."""

from django.conf import settings
from django.db import connection, transaction
from django.db.models.signals import post_delete, post_migrate, post_save
from django.dispatch import receiver

from tenants.models import Site, SiteKey
from tenants.site_directory import site_cache_forget


@receiver([post_save, post_delete], sender=Site)
def _site_changed(sender, instance: Site, **kwargs) -> None:
    transaction.on_commit(lambda: site_cache_forget(site_id=instance.id))


@receiver([post_save, post_delete], sender=SiteKey)
def _site_key_changed(sender, instance: SiteKey, **kwargs) -> None:
    site_id, key = instance.site_id, instance.key
    transaction.on_commit(lambda: site_cache_forget(site_id=site_id, key=key))


@receiver(post_migrate)
def _platform_host_served(sender, app_config, **kwargs) -> None:
    """django-tenants serves a host only if a domain row names it: without the public tenant's
    row and domain, every platform URL (widget.js, the APIs, signup) answers 404 on a new
    deployment. Its migration job (`migrate_schemas`) ends here, once, for the public schema."""
    if app_config.name != "tenants" or connection.schema_name != settings.PUBLIC_SCHEMA_NAME:
        return
    from tenants.services import public_tenant_ensure

    public_tenant_ensure()
