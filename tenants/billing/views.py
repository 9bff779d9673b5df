"""Stripe's webhook on the platform host (the billing page is the dashboard's)."""

from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from core.errors import ParleyError
from tenants.billing.services import stripe_webhook_receive


@csrf_exempt  # Stripe signs the body instead
@require_POST
def stripe_webhook(request):
    try:
        outcome = stripe_webhook_receive(
            payload=request.body, signature=request.headers.get("Stripe-Signature")
        )
    except ParleyError as error:
        return JsonResponse(error.as_body(), status=error.http_status)
    return JsonResponse({"received": True, "outcome": outcome})
