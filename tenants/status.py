"""Whether a tenant is suspended, asked on every widget session, socket handshake and API call.

Answered from process memory, read again from the public schema every
`TENANT_STATUS_CACHE_SECONDS` (3 s): a suspension reaches every worker within that time, without
a database read per request. The chat's open sockets do not wait for it: the suspension closes
them at once through `core.events.tenant_suspended`.
"""

from django.conf import settings

from core.caches import MISSING, ProcessCache
from core.db_thread import in_public
from core.errors import TenantSuspended
from tenants.models import Tenant

# tenant id -> the suspension's reason ("" when suspended without one), or None when active
_status: ProcessCache[int, str | None] = ProcessCache(
    "tenant-status", maxsize=100_000, ttl=settings.TENANT_STATUS_CACHE_SECONDS
)


def suspension_of(tenant_id: int) -> str | None:
    """The reason the tenant is suspended (maybe ""), or None while it is active."""
    reason = _status.get(tenant_id, MISSING)
    if reason is MISSING:
        row = Tenant.objects.filter(pk=tenant_id).values("suspended_at", "suspended_reason").first()
        reason = row["suspended_reason"] if row and row["suspended_at"] else None
        _status.set(tenant_id, reason)
    return reason


def ensure_active(tenant_id: int) -> None:
    """Raise `TenantSuspended` when the tenant is suspended."""
    if suspension_of(tenant_id) is not None:
        raise TenantSuspended()


async def aensure_active(tenant_id: int) -> None:
    if _status.get(tenant_id, MISSING) is MISSING:
        await in_public(suspension_of, tenant_id=tenant_id)
    ensure_active(tenant_id)


def status_forget(tenant_id: int) -> None:
    _status.pop(tenant_id)
