"""The billing page of the tenant dashboard: the plan, its usage, invoices, Checkout and Portal."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts.roles import Capability
from accounts.selectors import member_count
from core.errors import ParleyError
from dashboard.middleware import dashboard_csp
from dashboard.permissions import requires
from tenants.billing.limits import usage_summary
from tenants.billing.models import LIVE_STATUSES
from tenants.billing.plans import paid_plans
from tenants.billing.selectors import billing_account_of, tenant_invoices
from tenants.billing.services import checkout_session_create, portal_session_create
from tenants.billing.stripe_api import billing_configured

# Stripe's hosted pages: the billing page's forms redirect there (CSP `form-action`).
STRIPE_PAGES = ("https://checkout.stripe.com", "https://billing.stripe.com")


@requires(Capability.BILLING)
@dashboard_csp(form_targets=STRIPE_PAGES)
def billing_page(request):
    tenant = request.tenant
    account = billing_account_of(tenant)
    invoices, invoices_error = [], ""
    try:
        invoices = tenant_invoices(tenant=tenant)
    except ParleyError as error:
        invoices_error = error.message
    subscribed = account is not None and account.status in LIVE_STATUSES
    context = {
        "configured": billing_configured(),
        "summary": usage_summary(tenant, members=member_count(tenant)),
        "account": account,
        "subscribed": subscribed,
        "upgrades": [] if subscribed else paid_plans(),
        "invoices": invoices,
        "invoices_error": invoices_error,
        "checkout_done": request.GET.get("checkout") == "done",
    }
    return render(request, "dashboard/billing.html", context)


@require_POST
@requires(Capability.BILLING)
def billing_upgrade(request):
    page = request.build_absolute_uri(reverse("billing"))
    try:
        url = checkout_session_create(
            tenant=request.tenant,
            plan_code=request.POST.get("plan", ""),
            success_url=f"{page}?checkout=done",
            cancel_url=page,
        )
    except ParleyError as error:
        messages.error(request, error.message)
        return redirect("billing")
    return redirect(url)


@require_POST
@requires(Capability.BILLING)
def billing_manage(request):
    try:
        url = portal_session_create(
            tenant=request.tenant, return_url=request.build_absolute_uri(reverse("billing"))
        )
    except ParleyError as error:
        messages.error(request, error.message)
        return redirect("billing")
    return redirect(url)
