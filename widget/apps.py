from django.apps import AppConfig


class WidgetConfig(AppConfig):
    name = "widget"
    verbose_name = "Widget: visitors, conversations and messages (tenant schema)"

    def ready(self) -> None:
        # Connected at start: a preflight is answered by middleware before any URLconf loads,
        # and public-schema changes (core.events) must reach sockets from the first one.
        from widget import cors, receivers  # noqa: F401
