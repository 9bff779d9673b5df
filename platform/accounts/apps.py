from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts: a tenant's people, their roles and sign-in links (tenant schema)"
