from django.apps import AppConfig


class WidgetConfig(AppConfig):
    name = "widget"
    verbose_name = "Widget: visitors, conversations and messages (tenant schema)"

    def ready(self) -> None:
        # Connected at start: a preflight is answered by middleware before any URLconf loads,
        # and public-schema changes (core.events) must reach sockets from the first one.
        from core.health import register_check
        from widget import cors, receivers  # noqa: F401
        from widget.fanout.hub import hub
        from widget.mail import webhooks  # noqa: F401 (anymail's inbound signal)

        # The chat crosses workers through the fan-out, not the channel layer: /readyz checks it.
        register_check("fanout", hub.check_live, backend="redis")
