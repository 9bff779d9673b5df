from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "demo"
    verbose_name = "The demo: `make run`, the demo tenant and its customer page (development)"
