from django.apps import AppConfig


class DashboardConfig(AppConfig):
    name = "dashboard"
    verbose_name = "Tenant dashboard: pages over the services of accounts, widget and tenants"
