from django.apps import AppConfig


class TenantsConfig(AppConfig):
    name = "tenants"
    verbose_name = "Tenants, sites and billing (public schema)"

    def ready(self) -> None:
        # Connect the receivers that keep the site and webhook caches honest.
        from tenants import signals, webhooks  # noqa: F401
