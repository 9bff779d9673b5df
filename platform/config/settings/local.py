"""Development settings: `make run` and `manage.py` on a developer's machine."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DEBUG", default=True)
STORAGES["staticfiles"] = {  # noqa: F405
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
}
EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
# Static files come straight from the apps (no collectstatic outside production).
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True
# A developer's webhook receiver usually runs on their own machine.
WEBHOOK_ALLOW_PRIVATE_ADDRESSES = env.bool("PARLEY_WEBHOOK_ALLOW_PRIVATE_ADDRESSES", default=True)
