from django.apps import AppConfig


class OperatorsConfig(AppConfig):
    """What the person who runs a Parley installation sees and does across tenants."""

    name = "operators"
