"""Test settings: pytest-django loads these (pyproject.toml)."""

from .base import *  # noqa: F403

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES["staticfiles"] = {  # noqa: F405
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
}
# In-process tests read django.core.mail.outbox; a process a test starts may be given EMAIL_URL
# (its SMTP server: tests/e2e/test_email_continuity.py).
if not EMAIL_URL:  # noqa: F405
    EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Static files come straight from the apps (no collectstatic outside production).
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True
# Tests receive webhooks on loopback, and make many requests from one address and one key:
# the rate-limit tests set their own low limits.
WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
WIDGET_SESSION_RATE_PER_IP = 100_000
WIDGET_SESSION_RATE_PER_SITE = 100_000
SITE_API_RATE_PER_KEY = 100_000
# In-process tests flush message usage themselves (no background flusher thread); a test of a
# real worker may turn the flusher on through the environment.
BILLING_USAGE_FLUSH_SECONDS = env.float("BILLING_USAGE_FLUSH_SECONDS", default=0)  # noqa: F405
# The suite opens hundreds of sockets from 127.0.0.1; the tests of the per-address budgets set
# their own (tests/e2e/test_address_budgets.py).
PARLEY_WS = {
    **PARLEY_WS,  # noqa: F405
    "ADDRESS_SOCKETS": env.int("PARLEY_WS_ADDRESS_SOCKETS", default=100_000),  # noqa: F405
    "ADDRESS_UNAUTHENTICATED": env.int(  # noqa: F405
        "PARLEY_WS_ADDRESS_UNAUTHENTICATED", default=100_000
    ),
}
ADDRESS_PLAN_SHARE = env.float("PARLEY_ADDRESS_PLAN_SHARE", default=1.0)  # noqa: F405
BUDGET_VISITOR_MESSAGES = env.int("PARLEY_BUDGET_VISITOR_MESSAGES", default=100_000)  # noqa: F405
BUDGET_ADDRESS_MESSAGES = env.int("PARLEY_BUDGET_ADDRESS_MESSAGES", default=100_000)  # noqa: F405
BUDGET_VISITOR_UPLOADS = env.int("PARLEY_BUDGET_VISITOR_UPLOADS", default=100_000)  # noqa: F405
BUDGET_ADDRESS_UPLOADS = env.int("PARLEY_BUDGET_ADDRESS_UPLOADS", default=100_000)  # noqa: F405
BUDGET_VISITOR_CONVERSATIONS = env.int(  # noqa: F405
    "PARLEY_BUDGET_VISITOR_CONVERSATIONS", default=100_000
)
BUDGET_ADDRESS_CONVERSATIONS = env.int(  # noqa: F405
    "PARLEY_BUDGET_ADDRESS_CONVERSATIONS", default=100_000
)
BUDGET_ADDRESS_MONTH_SHARE = env.float(  # noqa: F405
    "PARLEY_BUDGET_ADDRESS_MONTH_SHARE", default=1.0
)
# A busy test machine may keep the suite's bursts of requests waiting for a thread longer than
# production's 2 s; the test of the bound sets its own (tests/e2e/test_http_threads.py).
HTTP_THREAD_WAIT = env.float("PARLEY_HTTP_THREAD_WAIT", default=30.0)  # noqa: F405
# Without Stripe, the suite's tenants are on the Free plan, whose limits the tests reach; the
# tests of the self-hosted default set it (tests/tenants/billing/test_plan_grants.py).
DEFAULT_PLAN = env("PARLEY_DEFAULT_PLAN", default="free")  # noqa: F405
# Members' pictures uploaded by the suite, apart from a developer's own (`make run`'s).
MEDIA_ROOT = env("PARLEY_MEDIA_ROOT", default=str(BASE_DIR / ".data" / "test-media"))  # noqa: F405
# Attachments stored by the suite, apart from a developer's own, unless a worker started by a
# test is given a real S3-compatible server (tests/support/object_storage.py).
if not env("PARLEY_STORAGE_URL", default=""):  # noqa: F405
    STORAGES["attachments"] = {  # noqa: F405
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {
            "location": env(  # noqa: F405
                "PARLEY_ATTACHMENT_ROOT",
                default=str(BASE_DIR / ".data" / "test-attachments"),  # noqa: F405
            )
        },
    }
