"""The operator console on the platform host (`/operator/`): sign in with password and TOTP, the
tenants with plan, status and usage, and the actions on one tenant. Every action runs as the
operator (`core.actors`) and is written to the audit log by the service that makes it."""

from datetime import UTC, datetime
from functools import wraps

from django import forms
from django.http import FileResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from core.actors import Actor, acting_as
from core.errors import ParleyError
from core.ratelimit import client_address
from operators import auth
from operators.selectors import tenant_overview, tenants_matching
from tenants.audit import audit_record, operator_audit_entries, tenant_audit_entries
from tenants.billing.plans import PLANS
from tenants.billing.services import plan_grant
from tenants.models import Tenant
from tenants.services import tenant_delete, tenant_resume, tenant_suspend
from widget.exports import tenant_export_file


def _with_policy(response):
    # The dashboard's Content-Security-Policy (dashboard.middleware), asked for by attribute.
    response.dashboard_csp = ()
    return response


def operator_required(view):
    """Only a signed-in operator; the request then acts as them."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        operator = auth.session_operator(request)
        if operator is None:
            login = reverse("operator-login")
            return HttpResponseRedirect(f"{login}?next={request.path}")
        request.operator = operator
        with acting_as(Actor("operator", operator.email, client_address(request))):
            return _with_policy(view(request, *args, **kwargs))

    return wrapped


class SignInForm(forms.Form):
    email = forms.EmailField(max_length=254)
    password = forms.CharField(widget=forms.PasswordInput, max_length=256)
    code = forms.CharField(
        label="Code from your authenticator app", max_length=8,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )  # fmt: skip


@require_http_methods(["GET", "POST"])
def sign_in(request):
    form = SignInForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        address = client_address(request)
        result = auth.authenticate(**form.cleaned_data, address=address)
        if result.operator is not None:
            auth.session_open(request, result.operator)
            with acting_as(Actor("operator", result.operator.email, address)):
                audit_record("operator.signed_in", tenant=None)
            next_url = request.GET.get("next", "")
            safe = next_url.startswith("/operator/") and "//" not in next_url
            return HttpResponseRedirect(next_url if safe else reverse("operator-tenants"))
        if result.wait_seconds:
            form.add_error(None, f"Too many failed sign-ins. Try again in {result.wait_seconds} s.")
            status = 429
        else:
            form.add_error(None, "The email, password or code is not right.")
            status = 400
    elif request.method == "POST":
        status = 400
    return _with_policy(render(request, "operators/login.html", {"form": form}, status=status))


@require_POST
def sign_out(request):
    auth.session_close(request)
    return HttpResponseRedirect(reverse("operator-login"))


@operator_required
@require_http_methods(["GET"])
def tenants(request):
    query = request.GET.get("q", "").strip()[:100]
    rows = [tenant_overview(tenant) for tenant in tenants_matching(query)]
    return render(
        request, "operators/tenants.html", {"rows": rows, "query": query, "section": "tenants"}
    )


class PlanForm(forms.Form):
    plan = forms.ChoiceField(
        label="Put the tenant on",
        choices=[("none", "No operator plan (Stripe's or the default)")]
        + [(code, plan.name) for code, plan in PLANS.items()],
    )
    until = forms.DateField(
        label="Until (empty: until taken back)",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )


@operator_required
@require_http_methods(["GET"])
def tenant_detail(request, slug: str):
    tenant = get_object_or_404(Tenant, slug=slug)
    return _detail(request, tenant)


def _detail(request, tenant: Tenant, *, error: str = "", status: int = 200):
    context = {
        "tenant": tenant,
        "overview": tenant_overview(tenant),
        "plan_form": PlanForm(),
        "entries": tenant_audit_entries(tenant, limit=20),
        "error": error,
        "section": "tenants",
    }
    return render(request, "operators/tenant.html", context, status=status)


@operator_required
@require_POST
def tenant_act(request, slug: str, action: str):
    tenant = get_object_or_404(Tenant, slug=slug)
    try:
        if action == "plan":
            form = PlanForm(request.POST)
            if not form.is_valid():
                return _detail(request, tenant, error="Choose a plan and a valid date.", status=400)
            until = form.cleaned_data["until"]
            ends = datetime(until.year, until.month, until.day, tzinfo=UTC) if until else None
            code = form.cleaned_data["plan"]
            plan_grant(tenant_id=tenant.pk, plan_code="" if code == "none" else code, until=ends)
        elif action == "suspend":
            tenant_suspend(tenant=tenant, reason=request.POST.get("reason", ""))
        elif action == "resume":
            tenant_resume(tenant=tenant)
        elif action == "export":
            return _export(tenant)
        elif action == "delete":
            tenant_delete(tenant=tenant, confirm_name=request.POST.get("confirm", ""))
            return HttpResponseRedirect(reverse("operator-tenants"))
        else:
            return _detail(request, tenant, error="Unknown action.", status=404)
    except ParleyError as error:
        return _detail(request, tenant, error=error.message, status=error.http_status)
    return HttpResponseRedirect(reverse("operator-tenant", args=[tenant.slug]))


def _export(tenant: Tenant) -> FileResponse:
    archive, name, counts = tenant_export_file(tenant)
    audit_record("tenant.exported", tenant=tenant, details=counts)
    return FileResponse(archive, as_attachment=True, filename=name)


@operator_required
@require_http_methods(["GET"])
def audit(request):
    return render(
        request, "operators/audit.html", {"entries": operator_audit_entries(), "section": "audit"}
    )
