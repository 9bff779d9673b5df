"""`/api/v1/audit`: the tenant's audit log (sensitive changes: site keys, origins, identity
secret, API keys, webhooks, roles, invitations, and what the installation's operator did to the
tenant), newest first."""

from django.http import HttpRequest
from ninja import Router

from core.api import error_responses
from tenants.api.pagination import PageParams, page
from tenants.api.schemas import AuditListOut
from tenants.audit import as_seen_by_tenant
from tenants.models import AuditEntry

router = Router(tags=["audit"])


@router.get("/audit", response={200: AuditListOut, **error_responses(400, 401, 429)})
def audit_list(request: HttpRequest, params: PageParams):
    entries, next_cursor = page(
        AuditEntry.objects.filter(tenant=request.auth.tenant), params, newest_first=True
    )
    return {"data": [as_seen_by_tenant(entry) for entry in entries], "next": next_cursor}
