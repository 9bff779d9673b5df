"""Production settings: every secret and service address must come from the environment.

A missing one stops the process at start with a message naming all that is missing, rather than
running on a development default.
"""

import os

from django.core.exceptions import ImproperlyConfigured

from config.settings import PRODUCTION_REQUIRED

_missing = [name for name in PRODUCTION_REQUIRED if not os.environ.get(name)]
if _missing:
    raise ImproperlyConfigured(
        "Parley's production settings need these environment variables: " + ", ".join(_missing)
    )

from core.logging import configure_logging  # noqa: E402

from .base import *  # noqa: E402, F403
from .base import env  # noqa: E402

DEBUG = False
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True  # no script reads the CSRF cookie: forms carry the token
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

# Outgoing mail (password resets, invitations, conversation emails): EMAIL_URL (base.py), or
# these older variables when it is unset.
if not EMAIL_URL:  # noqa: F405
    EMAIL_HOST = env("EMAIL_HOST", default="localhost")
    EMAIL_PORT = env.int("EMAIL_PORT", default=587)
    EMAIL_HOST_USER = env("EMAIL_HOST_USER", default="")
    EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", default="")
    EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=True)

# Preloading HSTS is hard to undo (browsers ship the list): the operator opts in.
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
if not SECURE_HSTS_PRELOAD:
    SILENCED_SYSTEM_CHECKS = ["security.W021"]

LOGGING = configure_logging(
    json=env.bool("LOG_JSON", default=True), level=env("LOG_LEVEL", default="INFO")
)
