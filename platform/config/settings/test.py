"""Test settings: pytest-django loads these (pyproject.toml)."""

from .base import *  # noqa: F403

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES["staticfiles"] = {  # noqa: F405
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
}
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Static files come straight from the apps (no collectstatic outside production).
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True
# Tests flush message usage themselves; no background flusher thread.
BILLING_USAGE_FLUSH_SECONDS = 0
