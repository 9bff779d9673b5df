"""Development settings: `make run` and `manage.py` on a developer's machine."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DEBUG", default=True)
STORAGES["staticfiles"] = {  # noqa: F405
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
}
# Mail goes to the console unless EMAIL_URL names a server (`make run` names its mail catcher).
if not EMAIL_URL:  # noqa: F405
    EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
# Static files come straight from the apps (no collectstatic outside production).
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True
# A developer's webhook receiver usually runs on their own machine.
WEBHOOK_ALLOW_PRIVATE_ADDRESSES = env.bool("PARLEY_WEBHOOK_ALLOW_PRIVATE_ADDRESSES", default=True)
# On a developer's machine every visitor (the demo customer page, a load script) is 127.0.0.1:
# the budgets of one address would treat them all as one. The visitors' own budget stays.
BUDGET_ADDRESS_MESSAGES = env.int("PARLEY_BUDGET_ADDRESS_MESSAGES", default=1_000_000)
BUDGET_ADDRESS_MONTH_SHARE = env.float("PARLEY_BUDGET_ADDRESS_MONTH_SHARE", default=1.0)
ADDRESS_PLAN_SHARE = env.float("PARLEY_ADDRESS_PLAN_SHARE", default=1.0)
WIDGET_SESSION_RATE_PER_IP = env.int("PARLEY_WIDGET_SESSION_RATE_PER_IP", default=10_000)
PARLEY_WS = {
    **PARLEY_WS,  # noqa: F405
    "ADDRESS_SOCKETS": env.int("PARLEY_WS_ADDRESS_SOCKETS", default=10_000),
    "ADDRESS_UNAUTHENTICATED": env.int("PARLEY_WS_ADDRESS_UNAUTHENTICATED", default=1_000),
}
# `make run`'s mail catcher keeps the demo's outgoing mail here, shown at /demo/mail/.
DEMO_MAIL_DIR = env("PARLEY_DEMO_MAIL_DIR", default=str(BASE_DIR / ".data" / "demo-mail"))  # noqa: F405
