from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "tenants.billing"
    label = "billing"
    verbose_name = "Plans, Stripe billing and usage limits (public schema)"
