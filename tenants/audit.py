"""The audit logs: every sensitive change of a tenant (site keys, origins, identity secret, API
keys, webhooks, roles, invitations) and every operator action, with its actor
(`core.actors.current_actor`), address and time. Written in the transaction of the change it
records: no change without its entry, no entry of a change rolled back.

Actions are `<object>.<verb>` (`site.key_rotated`, `api_key.created`, `tenant.suspended`...);
`details` holds what changed, never a secret.
"""

from ipaddress import ip_address

from core.actors import current_actor
from tenants.models import AuditEntry, Tenant

OPERATOR_KINDS = ("operator", "command")  # the actors of the installation's operator


def audit_record(
    action: str, *, tenant: Tenant | None, target: str = "", details: dict | None = None
) -> AuditEntry:
    actor = current_actor()
    return AuditEntry.objects.create(
        tenant=tenant,
        tenant_slug=tenant.slug if tenant is not None else "",
        actor_kind=actor.kind,
        actor_label=actor.label[:254],
        address=_address(actor.address),
        action=action,
        target=target[:300],
        details=details or {},
    )


def _address(value: str) -> str | None:
    try:
        return str(ip_address(value)) if value else None
    except ValueError:
        return None


def tenant_audit_entries(tenant: Tenant, *, before_id: int | None = None, limit: int = 50):
    """A page of the tenant's entries, newest first (keyset: `before_id`)."""
    entries = AuditEntry.objects.filter(tenant=tenant)
    if before_id is not None:
        entries = entries.filter(id__lt=before_id)
    return list(entries.order_by("-id")[:limit])


def operator_audit_entries(*, limit: int = 200) -> list[AuditEntry]:
    """The operators' own actions (the console and the commands), newest first."""
    return list(AuditEntry.objects.filter(actor_kind__in=OPERATOR_KINDS)[:limit])


def as_seen_by_tenant(entry: AuditEntry) -> dict:
    """An entry as the tenant reads it: what the installation's operator did is shown, but not
    which operator nor from where."""
    operator = entry.actor_kind in OPERATOR_KINDS
    return {
        "id": entry.id,
        "created_at": entry.created_at,
        "actor_kind": "operator" if operator else entry.actor_kind,
        "actor_label": "the installation's operator" if operator else entry.actor_label,
        "address": None if operator else entry.address,
        "action": entry.action,
        "target": entry.target,
        "details": entry.details,
    }
