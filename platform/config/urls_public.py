"""URLs of the platform host (public schema): widget, public APIs, signup."""

from django.urls import path

from tenants.billing.views import stripe_webhook

urlpatterns: list = [
    path("billing/stripe/webhook", stripe_webhook, name="stripe-webhook"),
]
