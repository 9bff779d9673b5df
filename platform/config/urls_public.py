"""URLs of the platform host (public schema): widget, public APIs, signup, operator console."""

from django.urls import include, path

from config.site_api import site_api
from tenants.billing.views import stripe_webhook
from widget.api import widget_api
from widget.mail.webhooks import inbound_urlpatterns

urlpatterns: list = [
    path("", include("widget.urls")),
    path("", include("dashboard.urls_public")),
    path("", include("operators.urls")),
    path("api/widget/v1/", widget_api.urls),
    path("api/v1/", site_api.urls),
    path("billing/stripe/webhook", stripe_webhook, name="stripe-webhook"),
    # Emailed replies through a provider's inbound webhook (docs/EMAIL.md).
    path("email/inbound/", include(inbound_urlpatterns())),
]
# Errors Django answers itself (a body over its limit, a suspicious request): core/http_errors.py
handler400 = "core.http_errors.bad_request"
handler500 = "core.http_errors.server_error"
