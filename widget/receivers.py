"""The chat's subscriptions to changes made in the public schema (`core.events`).

Connected once, when the app loads (`widget.apps`): the public-schema code sends these events
after its change commits and never imports the chat.
"""

from django.dispatch import receiver

from core import events
from widget.events import close_site_sockets


@receiver(events.site_keys_revoked)
@receiver(events.site_deleted)
def _site_closed_to_sockets(sender, *, tenant_id: int, site_id: int, **kwargs) -> None:
    close_site_sockets(tenant_id, site_id)
