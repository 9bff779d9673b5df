from django.apps import AppConfig
from django.db.models.signals import post_migrate, pre_migrate


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Platform plumbing: health checks and the development stack"

    def ready(self) -> None:
        from core.db_timeouts import timeouts_back_after_migrations, timeouts_off_for_migrations

        pre_migrate.connect(timeouts_off_for_migrations, dispatch_uid="parley-db-timeouts-off")
        post_migrate.connect(timeouts_back_after_migrations, dispatch_uid="parley-db-timeouts")
