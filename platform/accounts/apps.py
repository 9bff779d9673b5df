from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts: a tenant's people, their roles and sign-in links (tenant schema)"

    def ready(self) -> None:
        # Connected at start: a sign-out must reach the member's open sockets (core.events).
        from accounts import receivers  # noqa: F401
