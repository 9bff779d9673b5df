"""The chat's subscriptions to changes made below it (`core.events`): in the public schema, and
to a tenant's people.

Connected once, when the app loads (`widget.apps`): the lower code sends these events after its
change commits and never imports the chat.
"""

from django.dispatch import receiver

from core import events
from core.errors import TenantSuspended
from widget.availability import presence_announce
from widget.events import close_member_sockets, close_site_sockets
from widget.services.attachments import attachments_delete_schema


@receiver(events.site_keys_revoked)
@receiver(events.site_deleted)
def _site_closed_to_sockets(sender, *, tenant_id: int, site_id: int, **kwargs) -> None:
    close_site_sockets(tenant_id, site_id)


@receiver(events.member_access_changed)
def _member_access_to_sockets(sender, *, tenant_id: int, user_id: int, **kwargs) -> None:
    close_member_sockets(tenant_id, user_id)


@receiver(events.member_presence_changed)
def _member_presence_to_visitors(sender, *, tenant_id: int, user_id: int, **kwargs) -> None:
    """Sent by the dashboard's request, still in the tenant's schema, which the presence reads."""
    presence_announce(tenant_id=tenant_id)


@receiver(events.tenant_suspended)
def _tenant_suspended_to_sockets(sender, *, tenant_id: int, site_ids: list[int], **kwargs) -> None:
    for site_id in site_ids:
        close_site_sockets(tenant_id, site_id, TenantSuspended.close_code)


@receiver(events.tenant_deleted)
def _tenant_deleted_to_files(sender, *, schema_name: str, **kwargs) -> None:
    attachments_delete_schema(schema_name=schema_name)
