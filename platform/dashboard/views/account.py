"""The tenant's audit log (owners and admins), and the account itself (owners): export the
tenant's data as one zip, or close the account for good."""

from django import forms
from django.conf import settings
from django.contrib.auth import logout
from django.db import connection
from django.http import FileResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from accounts.roles import Capability
from dashboard.permissions import requires
from tenants.audit import as_seen_by_tenant, audit_record, tenant_audit_entries
from tenants.services import tenant_delete
from widget.exports import tenant_export_file

PAGE = 50


@requires(Capability.AUDIT)
@require_http_methods(["GET"])
def audit(request):
    before = request.GET.get("before", "")
    entries = tenant_audit_entries(
        request.tenant, before_id=int(before) if before.isdigit() else None, limit=PAGE + 1
    )
    more = len(entries) > PAGE
    entries = [as_seen_by_tenant(entry) for entry in entries[:PAGE]]
    older = entries[-1]["id"] if more else None
    return render(request, "dashboard/audit.html", {"entries": entries, "older": older})


class CloseAccountForm(forms.Form):
    confirm = forms.CharField(label="Type your company's name to close the account", max_length=200)


@requires(Capability.ACCOUNT)
@require_http_methods(["GET"])
def account(request):
    return render(request, "dashboard/account.html", {"form": CloseAccountForm()})


@requires(Capability.ACCOUNT)
@require_POST
def account_export(request):
    archive, name, counts = tenant_export_file(request.tenant)
    audit_record("tenant.exported", tenant=request.tenant, details=counts)
    return FileResponse(archive, as_attachment=True, filename=name)


@requires(Capability.ACCOUNT)
@require_POST
def account_close(request):
    form = CloseAccountForm(request.POST)
    tenant = request.tenant
    if form.is_valid() and form.cleaned_data["confirm"] != tenant.name:
        form.add_error("confirm", "That is not your company's name as Parley has it.")
    if not form.is_valid():
        return render(request, "dashboard/account.html", {"form": form}, status=400)
    # Signed out first: the session lives in the schema the deletion drops.
    logout(request)
    tenant_delete(tenant=tenant, confirm_name=form.cleaned_data["confirm"])
    connection.set_schema_to_public()
    return redirect(f"{settings.PLATFORM_URL}/?closed=1")
