"""Keep the hot-path site cache honest: forget a site when it or its keys change."""

from django.db import transaction
from django.db.models.signals import post_delete, post_save
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
