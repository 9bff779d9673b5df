"""Webhooks: the tenant's endpoints, a test event sent now, the delivery log, the signing secret
(shown once), disable, enable and delete. The same services as `/api/v1/webhooks`."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.roles import Capability
from core.errors import ParleyError
from dashboard.forms import WebhookForm
from dashboard.permissions import requires
from dashboard.responses import shown_once
from tenants.models import Webhook, WebhookDelivery
from tenants.selectors import webhook_deliveries, webhook_list
from tenants.services import (
    webhook_create,
    webhook_delete,
    webhook_rotate_secret,
    webhook_set_enabled,
)
from tenants.webhooks import webhook_test_send

RECENT_DELIVERIES = 25


def _webhook_or_404(request, pk: int) -> Webhook:
    return get_object_or_404(Webhook, pk=pk, tenant=request.tenant)


def _list_page(request, *, form: WebhookForm, secret: str = "", created=None, status=200):
    webhooks = list(webhook_list(tenant=request.tenant).order_by("-created_at", "-id"))
    context = {"webhooks": webhooks, "form": form, "secret": secret, "created": created}
    return render(request, "dashboard/webhooks.html", context, status=status)


@requires(Capability.WEBHOOKS)
@require_http_methods(["GET", "POST"])
def webhooks(request):
    if request.method == "GET":
        return _list_page(request, form=WebhookForm())
    form = WebhookForm(request.POST)
    if not form.is_valid():
        return _list_page(request, form=form, status=400)
    try:
        webhook = webhook_create(tenant=request.tenant, **form.cleaned_data)
    except ParleyError as error:
        message = error.message.removeprefix("url: ")
        form.add_error("url" if message != error.message else None, message)
        return _list_page(request, form=form, status=400)
    messages.success(request, f"Webhook for {webhook.url} created. Copy its signing secret now.")
    return shown_once(
        _list_page(request, form=WebhookForm(), secret=webhook.secret, created=webhook)
    )


def _detail_page(request, webhook: Webhook, *, secret: str = "", tested=None):
    deliveries = list(webhook_deliveries(webhook=webhook).order_by("-id")[:RECENT_DELIVERIES])
    for delivery in deliveries:
        delivery.last_attempt = delivery.attempts[-1] if delivery.attempts else None
    context = {
        "webhook": webhook,
        "deliveries": deliveries,
        "secret": secret,
        "tested": tested,
        "Status": WebhookDelivery.Status,
    }
    return render(request, "dashboard/webhook.html", context)


@requires(Capability.WEBHOOKS)
@require_GET
def webhook_detail(request, pk: int):
    return _detail_page(request, _webhook_or_404(request, pk))


@requires(Capability.WEBHOOKS)
@require_POST
def webhook_test_view(request, pk: int):
    """Send a test event now and show how it went (the request waits for the endpoint, at most
    the webhook timeout)."""
    webhook = _webhook_or_404(request, pk)
    delivery = webhook_test_send(webhook=webhook)
    attempt = delivery.attempts[-1]
    if delivery.status == WebhookDelivery.Status.DELIVERED:
        messages.success(
            request,
            f"Test event delivered: HTTP {attempt['status_code']} in {attempt['duration_ms']} ms.",
        )
    else:
        messages.error(request, f"Test event not delivered: {attempt['error']}.")
    return redirect("webhook", pk=webhook.pk)


@requires(Capability.WEBHOOKS)
@require_POST
def webhook_rotate_secret_view(request, pk: int):
    webhook = _webhook_or_404(request, pk)
    secret = webhook_rotate_secret(webhook=webhook)
    messages.success(request, "New signing secret issued: the previous one no longer signs.")
    return shown_once(_detail_page(request, webhook, secret=secret))


@requires(Capability.WEBHOOKS)
@require_POST
def webhook_enable_view(request, pk: int):
    webhook = _webhook_or_404(request, pk)
    enabled = request.POST.get("enabled") == "1"
    webhook_set_enabled(webhook=webhook, enabled=enabled)
    if enabled:
        messages.success(request, "Webhook enabled: it receives events from now on.")
    else:
        messages.success(request, "Webhook disabled: it receives nothing until enabled again.")
    return redirect("webhook", pk=webhook.pk)


@requires(Capability.WEBHOOKS)
@require_POST
def webhook_delete_view(request, pk: int):
    webhook = _webhook_or_404(request, pk)
    url = webhook.url
    webhook_delete(webhook=webhook)
    messages.success(request, f"Webhook for {url} deleted.")
    return redirect("webhooks")
