from django.apps import AppConfig


class TenantsConfig(AppConfig):
    name = "tenants"
    verbose_name = "Tenants, sites and billing (public schema)"

    def ready(self) -> None:
        from tenants import signals  # noqa: F401 - connects the site cache receivers
