"""Events: how a change made in a lower layer reaches the code above it without importing it.

Dependencies point one way (docs/ARCHITECTURE.md): the public-schema code (`tenants`, billing)
and a tenant's people (`accounts`) know nothing of the chat, yet some of their changes must reach
open sockets at once. The service
that makes such a change sends one of the events below with `send_after_commit`; the chat
(`widget.receivers`) subscribes to them when its app loads. Receivers run only once the
transaction that made the change has committed, so none acts on a change that is rolled back.

Each event is a Django signal; its keyword arguments are named beside it. Add an event here, not
an import of a higher layer, when a new change must travel up.
"""

from django.db import transaction
from django.dispatch import Signal

# Every key of a site refused at once (a leaked key): tenant_id, site_id.
site_keys_revoked = Signal()
# A site was deleted, with its keys: tenant_id, site_id.
site_deleted = Signal()
# What a member of a tenant's team may do changed (signed out, removed, another role, a new
# password): tenant_id, user_id. Their open agent sockets close; a reconnect is checked afresh.
member_access_changed = Signal()
# A member switched "Away" on or off: tenant_id, user_id. Visitors are told the new presence.
member_presence_changed = Signal()
# The operator suspended a tenant: tenant_id, site_ids. Its chat sockets close on every worker.
tenant_suspended = Signal()
# A tenant was deleted and its schema dropped: tenant_id, schema_name. Its stored files go too.
tenant_deleted = Signal()


def send_after_commit(event: Signal, **fields) -> None:
    """Send `event` with `fields` once the current transaction commits (at once outside one)."""
    transaction.on_commit(lambda: event.send(sender=None, **fields))
