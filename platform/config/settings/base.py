"""Settings shared by every environment. Every value comes from the environment (.env.example)."""

from pathlib import Path
from urllib.parse import unquote

import environ
from django.core.exceptions import ImproperlyConfigured

from core.logging import configure_logging
from core.redis_config import parse_redis_url
from core.storage import attachment_storage

BASE_DIR = Path(__file__).resolve().parents[3]
env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

SECRET_KEY = env("SECRET_KEY", default="dev-only-insecure-secret-key-change-me")
# Old keys still accepted for signatures during a rotation (infra/RUNBOOK.md, Rotate secrets).
SECRET_KEY_FALLBACKS = env.list("SECRET_KEY_FALLBACKS", default=[])
DEBUG = env.bool("DEBUG", default=False)

# The platform host serves the widget, the public APIs and signup; each tenant's dashboard is
# served on `<slug>.<platform host>` (django-tenants resolves the tenant from the host name).
PLATFORM_HOST = env("PARLEY_PLATFORM_HOST", default="localhost")
PLATFORM_URL = env("PARLEY_PLATFORM_URL", default=f"http://{PLATFORM_HOST}:8000")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[PLATFORM_HOST, f".{PLATFORM_HOST}"])

# --- Applications: public schema (shared) and one schema per tenant ------------------------------
SHARED_APPS = [
    "django_tenants",
    "tenants",
    "tenants.billing",
    "core",
    "daphne",
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "corsheaders",
    "channels",
    # Email providers' sending backends and inbound webhooks (docs/EMAIL.md).
    "anymail",
    "demo",
    "operators",
]
TENANT_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "accounts",
    "widget",
    "dashboard",
]
INSTALLED_APPS = SHARED_APPS + [app for app in TENANT_APPS if app not in SHARED_APPS]

TENANT_MODEL = "tenants.Tenant"
TENANT_DOMAIN_MODEL = "tenants.Domain"
PUBLIC_SCHEMA_NAME = "public"
PUBLIC_SCHEMA_URLCONF = "config.urls_public"
ROOT_URLCONF = "config.urls_tenant"
DATABASE_ROUTERS = ["django_tenants.routers.TenantSyncRouter"]
# Issue `SET search_path` once per schema switch, not before every query. django-tenants forgets
# the path it set when a transaction or savepoint rolls back (PostgreSQL reverts a SET with it);
# tests/widget/test_isolation.py rolls one back and checks the next query's schema.
TENANT_LIMIT_SET_CALLS = True
AUTH_USER_MODEL = "accounts.User"

MIDDLEWARE = [
    # Health probes and metrics answer before tenant resolution: probes call them by IP address.
    "core.middleware.OperationsMiddleware",
    "django_tenants.middleware.main.TenantMainMiddleware",
    "core.middleware.TenantLogContextMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.middleware.common.CommonMiddleware",
    # Multipart bodies are read within PARLEY_ATTACHMENT_MAX_BYTES, even by the CSRF check.
    "core.uploads.UploadLimitMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "core.middleware.ActorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "dashboard.middleware.ContentSecurityPolicyMiddleware",
    "dashboard.middleware.SuspensionMiddleware",
    # Times in the agent's zone (their own, else their browser's): dashboard.timezones.
    "dashboard.timezones.TimeZoneMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "dashboard.context_processors.navigation",
                "dashboard.context_processors.notifications",
            ],
        },
    },
]

ASGI_APPLICATION = "config.asgi.application"

# --- Database: DATABASE_URL ----------------------------------------------------------------------
# Reading the settings starts nothing: in development, manage.py and the test suite set
# DATABASE_URL to an embedded PostgreSQL before they get here (config/embedded.py).
if not env("DATABASE_URL", default=""):
    raise ImproperlyConfigured(
        "DATABASE_URL is not set. Set it to a PostgreSQL URL (.env.example), or start Parley "
        "through manage.py (make run) or pytest: in development they start an embedded "
        "PostgreSQL when it is unset."
    )
DATABASES = {"default": env.db("DATABASE_URL")}
# A Unix socket folder is given percent-encoded in the URL's host part (`%2Frun%2Fpostgresql`).
DATABASES["default"]["HOST"] = unquote(DATABASES["default"]["HOST"])
DATABASES["default"]["ENGINE"] = "django_tenants.postgresql_backend"
# Keep connections open between units of work: every socket frame that touches the database is
# one unit on the shared database thread, and opening a PostgreSQL connection for each costs more
# than the work itself (about 10 ms against 1-3 ms). A `conn_max_age` in DATABASE_URL wins.
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DB_CONN_MAX_AGE", default=60))
# A kept connection is dead after a database restart or failover: check it (SELECT 1) before a
# unit of work reuses it and reconnect, rather than fail that unit (a socket closed with 1011).
DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)
DATABASES["default"].setdefault("OPTIONS", {})
DATABASES["default"]["OPTIONS"].setdefault("connect_timeout", 5)
# Every connection starts with a bound on one statement and on one lock wait, so that a lock held
# elsewhere cannot stall every tenant of a worker; migrations turn both off (core/db_timeouts.py).
DB_STATEMENT_TIMEOUT = env.float("PARLEY_DB_STATEMENT_TIMEOUT", default=5.0)
DB_LOCK_TIMEOUT = env.float("PARLEY_DB_LOCK_TIMEOUT", default=2.0)
# Off: a message's commit (and so its `ack`) does not wait for PostgreSQL's disk flush. Faster
# on a slow disk; a PostgreSQL crash may lose the last ~600 ms of acknowledged messages
# (docs/PERFORMANCE.md, "Durable storage"). On by default.
MESSAGES_SYNCHRONOUS_COMMIT = env.bool("PARLEY_MESSAGES_SYNCHRONOUS_COMMIT", default=True)
DATABASES["default"]["OPTIONS"].setdefault(
    "options",
    f"-c statement_timeout={round(DB_STATEMENT_TIMEOUT * 1000)} "
    f"-c lock_timeout={round(DB_LOCK_TIMEOUT * 1000)}",
)
# HTTP requests run on at most this many threads per worker, each with its one database
# connection; a request waiting longer than HTTP_THREAD_WAIT seconds for a thread is answered
# 503 `unavailable` (core/http_threads.py).
# /metrics and /readyz's reasons: for `Authorization: Bearer <this>`, or loopback when unset
# (core/middleware.py).
METRICS_TOKEN = env("PARLEY_METRICS_TOKEN", default="")
HTTP_THREADS = env.int("PARLEY_HTTP_THREADS", default=8)
HTTP_THREAD_WAIT = env.float("PARLEY_HTTP_THREAD_WAIT", default=2.0)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Real time: fan-out across processes, channel layer -----------------------------------------
# One server, a comma list of servers (the channel layer shards over them; everything else uses
# the first) or `redis+sentinel://s1:26379,s2:26379/<master>[/<db>]`: core/redis_config.py.
REDIS_URL = env("REDIS_URL", default="")
REDIS_TARGET = parse_redis_url(REDIS_URL)
# Sockets fan out through widget.fanout: `redis` (one pub/sub publish per group message, each
# process delivering to its own sockets) or `local` (a single process). See docs/REALTIME.md.
PARLEY_FANOUT = env("PARLEY_FANOUT", default="redis" if REDIS_URL else "local")
# Publisher and presence connections of a process (pub/sub holds one more); a blocking pool: a
# burst waits for a free connection instead of failing (redis-py's default pool of 100 raises).
PARLEY_REDIS_MAX_CONNECTIONS = env.int("PARLEY_REDIS_MAX_CONNECTIONS", default=64)
# Group messages of a process waiting to be published to Redis (while Redis is away or slow), at
# most: past either bound a frame leaves the live path and the sockets of its group on other
# workers are closed to resume from the database (widget/fanout/transport.py, PROTOCOL.md).
PARLEY_FANOUT_OUTBOX_FRAMES = env.int("PARLEY_FANOUT_OUTBOX_FRAMES", default=10_000)
PARLEY_FANOUT_OUTBOX_BYTES = env.int("PARLEY_FANOUT_OUTBOX_BYTES", default=16 * 1024 * 1024)
# The channel layer carries no chat traffic (the fan-out does); /readyz round-trips through it
# and Django code may use it. Sized so a burst neither fails (pool) nor drops (capacity).
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                "hosts": [
                    host | {"max_connections": 1000} for host in REDIS_TARGET.channel_layer_hosts()
                ],
                "capacity": env.int("PARLEY_CHANNEL_CAPACITY", default=1000),
                "expiry": 30,
            },
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# Chat and agent sockets (PROTOCOL.md; the numbers are explained in its Decisions section).
PARLEY_WS = {
    "AUTH_TIMEOUT": env.float("PARLEY_WS_AUTH_TIMEOUT", default=10.0),
    "IDLE_TIMEOUT": env.float("PARLEY_WS_IDLE_TIMEOUT", default=75.0),
    "KEY_RECHECK": env.float("PARLEY_WS_KEY_RECHECK", default=30.0),
    # An agent socket reads its dashboard session again this often (expired, signed out elsewhere).
    "ACCESS_RECHECK": env.float("PARLEY_WS_ACCESS_RECHECK", default=30.0),
    "FRAME_RATE": env.float("PARLEY_WS_FRAME_RATE", default=10.0),
    "FRAME_BURST": env.float("PARLEY_WS_FRAME_BURST", default=30.0),
    "VISITOR_FRAME_RATE": env.float("PARLEY_WS_VISITOR_FRAME_RATE", default=20.0),
    "VISITOR_FRAME_BURST": env.float("PARLEY_WS_VISITOR_FRAME_BURST", default=60.0),
    "ABUSE_RATE": env.float("PARLEY_WS_ABUSE_RATE", default=1.0),
    "ABUSE_BURST": env.float("PARLEY_WS_ABUSE_BURST", default=20.0),
    "VISITOR_CONNECTIONS": env.int("PARLEY_WS_VISITOR_CONNECTIONS", default=10),
    "READY_MESSAGES": env.int("PARLEY_WS_READY_MESSAGES", default=50),
    "RESUME_LIMIT": env.int("PARLEY_WS_RESUME_LIMIT", default=1000),
    # A resume also repeats the messages stored this many seconds before `since` (selectors).
    "RESUME_OVERLAP": env.float("PARLEY_WS_RESUME_OVERLAP", default=10.0),
    # Bytes a socket may have waiting to be written before it counts as too slow to follow.
    "SEND_BUFFER_LIMIT": env.int("PARLEY_WS_SEND_BUFFER_LIMIT", default=1024 * 1024),
    # Abuse budgets of one address in one worker (docs/SECURITY.md): its chat sockets, and those
    # of them that have not authenticated yet (each may hold a half-sent frame of up to
    # PARLEY_WS_UNAUTHENTICATED_FRAME_BYTES, read by core.serve).
    "ADDRESS_SOCKETS": env.int("PARLEY_WS_ADDRESS_SOCKETS", default=100),
    "ADDRESS_UNAUTHENTICATED": env.int("PARLEY_WS_ADDRESS_UNAUTHENTICATED", default=10),
}

# --- Auth, i18n, static ---------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/login/"
X_FRAME_OPTIONS = "DENY"
CSRF_FAILURE_VIEW = "dashboard.views.auth.csrf_failure"
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default=f"Parley <no-reply@{PLATFORM_HOST}>")

# --- Email: outbound through Django's backends, inbound through webhooks or SMTP (docs/EMAIL.md)
# EMAIL_URL names the outbound server (django-environ: `smtp+tls://user:password@host:587`,
# `smtps://...`, `consolemail://`); a provider's HTTP API goes through django-anymail instead
# (EMAIL_BACKEND=anymail.backends.mailgun.EmailBackend, say) with its settings given as
# ANYMAIL_<NAME> variables (ANYMAIL_MAILGUN_API_KEY, ANYMAIL_WEBHOOK_SECRET for the inbound
# webhooks' basic auth, ...). Without EMAIL_URL: SMTP on localhost:25 (production.py reads the
# older EMAIL_HOST... variables).
EMAIL_URL = env("EMAIL_URL", default="")
EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
if EMAIL_URL:  # EMAIL_BACKEND, EMAIL_HOST, EMAIL_PORT, EMAIL_HOST_USER, EMAIL_USE_TLS...
    globals().update(env.email_url("EMAIL_URL"))
EMAIL_BACKEND = env("EMAIL_BACKEND", default=EMAIL_BACKEND)
ANYMAIL = {
    name.removeprefix("ANYMAIL_"): value
    for name, value in env.ENVIRON.items()
    if name.startswith("ANYMAIL_")
}
# Seconds an agent's message stays unseen by a visitor who left an email before it is emailed
# to them (with every other unseen message: one email), widget/mail/continuity.py.
EMAIL_CONTINUITY_DELAY = env.float("PARLEY_EMAIL_CONTINUITY_DELAY", default=120.0)
# Messages older than this are never emailed (a visitor's email given long after, a backlog).
EMAIL_CONTINUITY_HORIZON = env.float("PARLEY_EMAIL_CONTINUITY_HORIZON", default=3 * 24 * 3600.0)
# The domain of the per-conversation reply addresses (`c-<token>@<domain>`): its MX points at
# `manage.py mail_receiver` or at a provider whose inbound webhook calls Parley.
EMAIL_REPLY_DOMAIN = env("PARLEY_EMAIL_REPLY_DOMAIN", default=f"reply.{PLATFORM_HOST}")
# The built-in SMTP receiver (`manage.py mail_receiver`, aiosmtpd) and the largest email it takes.
INBOUND_SMTP_HOST = env("PARLEY_INBOUND_SMTP_HOST", default="127.0.0.1")
INBOUND_SMTP_PORT = env.int("PARLEY_INBOUND_SMTP_PORT", default=2525)
INBOUND_EMAIL_MAX_BYTES = env.int("PARLEY_INBOUND_EMAIL_MAX_BYTES", default=10 * 1024 * 1024)

# --- Dashboard: throttling (attempts, window in seconds) per client address -------------------
# Failed logins per (tenant, client address, email) before that triple waits for the window.
LOGIN_FAILURE_LIMIT = (env.int("PARLEY_LOGIN_FAILURES", default=5), 15 * 60)
# Failed logins per client address over all emails and tenants (password spraying), same window.
LOGIN_ADDRESS_FAILURE_LIMIT = (env.int("PARLEY_LOGIN_FAILURES_PER_ADDRESS", default=50), 15 * 60)
# Signup submissions per client address: each successful one creates a schema.
SIGNUP_RATE_LIMIT = (env.int("PARLEY_SIGNUPS_PER_HOUR", default=10), 3600)
# Password reset requests per client address.
PASSWORD_RESET_RATE_LIMIT = (env.int("PARLEY_PASSWORD_RESETS_PER_HOUR", default=10), 3600)
# "Find my dashboard" emails per client address.
FIND_DASHBOARD_RATE_LIMIT = (env.int("PARLEY_FIND_DASHBOARD_PER_HOUR", default=10), 3600)
# How long the one-time link that signs a new owner in on their dashboard host stays valid.
SIGNUP_LOGIN_LINK_SECONDS = 300

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# Uploaded files (members' pictures) in the default storage: a folder on this machine unless
# STORAGES is changed; several workers on several machines need it shared (infra/RUNBOOK.md).
MEDIA_ROOT = env("PARLEY_MEDIA_ROOT", default=str(BASE_DIR / ".data" / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# Attachments (widget.attachments): files visitors and agents send. Stored through
# django-storages: a folder on this machine by default; an S3-compatible store when
# PARLEY_STORAGE_URL (`s3://<bucket>?endpoint_url=...&region_name=...`) or
# AWS_STORAGE_BUCKET_NAME says so (keys from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or the
# machine's role). Several workers on several machines need the S3 store (or a shared folder).
ATTACHMENT_ROOT = env("PARLEY_ATTACHMENT_ROOT", default="") or str(
    BASE_DIR / ".data" / "attachments"
)
STORAGES["attachments"] = attachment_storage(
    storage_url=env("PARLEY_STORAGE_URL", default=""),
    bucket=env("AWS_STORAGE_BUCKET_NAME", default=""),
    endpoint_url=env("AWS_S3_ENDPOINT_URL", default=""),
    region_name=env("AWS_S3_REGION_NAME", default=""),
    root=ATTACHMENT_ROOT,
)
# One file at most this big (and at most the plan's `attachment_max_bytes`): 413 past it.
ATTACHMENT_MAX_BYTES = env.int("PARLEY_ATTACHMENT_MAX_BYTES", default=10 * 1024 * 1024)
# An HTTP request body is refused past this many bytes before it is read (core/http_threads.py):
# the largest attachment and its multipart envelope.
HTTP_MAX_BODY_BYTES = env.int("PARLEY_HTTP_MAX_BODY_BYTES", default=ATTACHMENT_MAX_BYTES + 65536)
# Where attachments are served (`<this>/files/<signed token>`): by default the platform host.
# In production give it a host of its own (`https://files.example.com`, routed to the same
# workers): no cookie of the dashboard or the operator console is ever sent there.
FILES_URL = env("PARLEY_FILES_URL", default="") or PLATFORM_URL
# How long a signed file URL (in a message frame, history, the API) stays valid.
FILE_URL_TTL = env.int("PARLEY_FILE_URL_TTL", default=3600)
# An image is refused past this many pixels (a decompression bomb); thumbnails fit this box.
ATTACHMENT_MAX_PIXELS = env.int("PARLEY_ATTACHMENT_MAX_PIXELS", default=40_000_000)
ATTACHMENT_THUMBNAIL_PX = 320
# Uploads a visitor may make, and all the visitors of one address, per window (429 past them).
BUDGET_VISITOR_UPLOADS = env.int("PARLEY_BUDGET_VISITOR_UPLOADS", default=20)
BUDGET_VISITOR_UPLOAD_WINDOW = env.int("PARLEY_BUDGET_VISITOR_UPLOAD_WINDOW", default=600)
BUDGET_ADDRESS_UPLOADS = env.int("PARLEY_BUDGET_ADDRESS_UPLOADS", default=100)
BUDGET_ADDRESS_UPLOAD_WINDOW = env.int("PARLEY_BUDGET_ADDRESS_UPLOAD_WINDOW", default=3600)
# An uploaded file never referenced by a message is deleted after this many hours (prune_history).
ATTACHMENT_UNSENT_HOURS = env.int("PARLEY_ATTACHMENT_UNSENT_HOURS", default=24)

# --- Billing: plans and Stripe (tenants/billing/) -------------------------------------------------
# With no STRIPE_SECRET_KEY billing is off: every tenant is on PARLEY_DEFAULT_PLAN (by default
# "self-hosted", no limit of its own; or free, pro, business, enterprise) unless an operator has
# put it on another, and the billing page says so.
STRIPE_SECRET_KEY = env("STRIPE_SECRET_KEY", default="")
DEFAULT_PLAN = env("PARLEY_DEFAULT_PLAN", default="self-hosted")
STRIPE_WEBHOOK_SECRET = env("STRIPE_WEBHOOK_SECRET", default="")
# Another Stripe API address (tests point it at localstripe); unset in production.
STRIPE_API_BASE = env("STRIPE_API_BASE", default="")
# The Stripe price (or legacy plan) id of each paid plan.
STRIPE_PRICE_PRO = env("STRIPE_PRICE_PRO", default="")
STRIPE_PRICE_BUSINESS = env("STRIPE_PRICE_BUSINESS", default="")
STRIPE_PRICE_ENTERPRISE = env("STRIPE_PRICE_ENTERPRISE", default="")
# Days a paid plan stays after a failed payment before the free plan applies.
BILLING_GRACE_DAYS = env.int("BILLING_GRACE_DAYS", default=7)
# How long a process trusts its cached copy of a tenant's plan (other processes' changes).
BILLING_PLAN_CACHE_SECONDS = env.float("BILLING_PLAN_CACHE_SECONDS", default=30)
# How often a process writes its message counts to the database; 0 leaves it to the caller.
BILLING_USAGE_FLUSH_SECONDS = env.float("BILLING_USAGE_FLUSH_SECONDS", default=10)

# --- Demo tenant (development and tests) ----------------------------------------------------------
DEMO_CUSTOMER_PAGE_URL = env("PARLEY_DEMO_CUSTOMER_PAGE_URL", default="http://127.0.0.1:8001")
# The Maildir of `make run`'s mail catcher, shown at /demo/mail/ (unset: no such page).
DEMO_MAIL_DIR = env("PARLEY_DEMO_MAIL_DIR", default="")
DEMO_SMTP_PORT = env.int("PARLEY_DEMO_SMTP_PORT", default=1025)

# Structured logs with credentials redacted (core/logging.py); JSON lines when LOG_JSON is true.
LOGGING = configure_logging(
    json=env.bool("LOG_JSON", default=False), level=env("LOG_LEVEL", default="INFO")
)

# --- Widget ---------------------------------------------------------------------------------
VISITOR_TOKEN_TTL = env.int("PARLEY_VISITOR_TOKEN_TTL", default=24 * 3600)
SITE_KEY_GRACE_SECONDS = env.int("PARLEY_SITE_KEY_GRACE_SECONDS", default=24 * 3600)
# How long a process trusts its cached copy of a site (allow-list, keys) before asking the database.
SITE_CACHE_SECONDS = env.float("PARLEY_SITE_CACHE_SECONDS", default=10.0)
# A GeoLite2-City (or GeoIP2-City) database file: agents then see each visitor's country and
# city. Unset, or a file that cannot be read (a warning once): no places, nothing else changes.
PARLEY_GEOIP_PATH = env("PARLEY_GEOIP_PATH", default="")
# How long a worker trusts its answer to "is this tenant suspended?" (tenants/status.py).
TENANT_STATUS_CACHE_SECONDS = env.float("PARLEY_TENANT_STATUS_CACHE_SECONDS", default=3.0)

# --- Cache: rate-limit and throttling counters (API, login, signup): Redis when configured,
# so every worker shares them, else memory
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            # A list: Django would split a string on commas (a Sentinel URL has some).
            "LOCATION": [REDIS_URL] if REDIS_TARGET.is_sentinel else [REDIS_TARGET.urls[0]],
            # A Redis that is down answers nothing: fail fast (rate limits then let requests by).
            "OPTIONS": {
                "socket_connect_timeout": 2,
                "socket_timeout": 2,
                **(
                    {"pool_class": "core.redis_config.SentinelCachePool"}
                    if REDIS_TARGET.is_sentinel
                    else {}
                ),
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# After the cache fails a call, rate limits count nothing for this many seconds before trying it
# again (core.ratelimit): a Redis that is down or hung costs one timeout, not one per request.
RATELIMIT_CACHE_RETRY_SECONDS = env.float("PARLEY_RATELIMIT_CACHE_RETRY_SECONDS", default=5.0)

# How many reverse proxies (nginx, a load balancer) append to X-Forwarded-For before Parley: the
# client address of every per-address limit (core.ratelimit.client_address) is read that far from
# the right. 0 trusts no header and uses the socket's address.
TRUSTED_PROXY_COUNT = env.int("PARLEY_TRUSTED_PROXY_COUNT", default=0)
# One address may hold this share of a plan's concurrent visitor places (1: no limit), at least
# PARLEY_ADDRESS_PLAN_MIN_PLACES; past it a socket is closed with 4429 and told to retry later.
ADDRESS_PLAN_SHARE = env.float("PARLEY_ADDRESS_PLAN_SHARE", default=0.25)
ADDRESS_PLAN_MIN_PLACES = env.int("PARLEY_ADDRESS_PLAN_MIN_PLACES", default=3)
ADDRESS_PLACE_RETRY_SECONDS = 30
# Messages a visitor may send, and all the visitors of one address, per window; and the share
# of its tenant's monthly messages one address may send in a month (1: no limit). Past them a
# message is refused with `rate_limited` and `retry_after` (docs/SECURITY.md, core/budgets.py).
BUDGET_VISITOR_MESSAGES = env.int("PARLEY_BUDGET_VISITOR_MESSAGES", default=60)
BUDGET_VISITOR_WINDOW = env.int("PARLEY_BUDGET_VISITOR_WINDOW", default=600)
BUDGET_ADDRESS_MESSAGES = env.int("PARLEY_BUDGET_ADDRESS_MESSAGES", default=300)
BUDGET_ADDRESS_WINDOW = env.int("PARLEY_BUDGET_ADDRESS_WINDOW", default=3600)
BUDGET_ADDRESS_MONTH_SHARE = env.float("PARLEY_BUDGET_ADDRESS_MONTH_SHARE", default=0.1)
# New conversations a visitor may start from the widget ("New conversation"), and all the
# visitors of one address, per window (429 `rate_limited` past them; PROTOCOL.md, Several
# conversations). A visitor's first conversation, and an empty one reused, are not counted.
BUDGET_VISITOR_CONVERSATIONS = env.int("PARLEY_BUDGET_VISITOR_CONVERSATIONS", default=10)
BUDGET_VISITOR_CONVERSATION_WINDOW = env.int(
    "PARLEY_BUDGET_VISITOR_CONVERSATION_WINDOW", default=3600
)
BUDGET_ADDRESS_CONVERSATIONS = env.int("PARLEY_BUDGET_ADDRESS_CONVERSATIONS", default=30)
BUDGET_ADDRESS_CONVERSATION_WINDOW = env.int(
    "PARLEY_BUDGET_ADDRESS_CONVERSATION_WINDOW", default=3600
)
# How often each process shares its budget counts through Redis (0: never, one process).
BUDGET_FLUSH_SECONDS = env.float("PARLEY_BUDGET_FLUSH_SECONDS", default=2.0)

# --- Widget HTTP API (/api/widget/v1/) ------------------------------------------------------
# CORS is answered per site, from its allow-list (widget/cors.py); nothing is allowed globally.
CORS_URLS_REGEX = r"^/api/widget/v1/.*$"
CORS_ALLOW_CREDENTIALS = False
CORS_ALLOW_METHODS = ("OPTIONS", "GET", "POST")
CORS_ALLOW_HEADERS = ("content-type", "authorization")
CORS_PREFLIGHT_MAX_AGE = 86400
WIDGET_API_MAX_BODY_BYTES = env.int("PARLEY_WIDGET_API_MAX_BODY_BYTES", default=8 * 1024)
# Session starts per minute: from one IP address, and for one site (all its visitors together).
WIDGET_SESSION_RATE_PER_IP = env.int("PARLEY_WIDGET_SESSION_RATE_PER_IP", default=30)
WIDGET_SESSION_RATE_PER_SITE = env.int("PARLEY_WIDGET_SESSION_RATE_PER_SITE", default=1200)

# --- Site-key API (/api/v1/) ----------------------------------------------------------------
SITE_API_MAX_BODY_BYTES = env.int("PARLEY_SITE_API_MAX_BODY_BYTES", default=64 * 1024)
# Requests per minute for one API key.
SITE_API_RATE_PER_KEY = env.int("PARLEY_SITE_API_RATE_PER_KEY", default=600)
SITE_KEY_MAX_GRACE_SECONDS = 30 * 24 * 3600

# --- Outbound webhooks (tenants/webhooks.py, `manage.py webhooks_worker`) --------------------
# Seconds to wait after each failed attempt; after the last one the delivery is marked failed.
WEBHOOK_RETRY_SCHEDULE = [
    int(seconds)
    for seconds in env.list("PARLEY_WEBHOOK_RETRY_SCHEDULE", default=[10, 60, 300, 1800, 7200])
]
WEBHOOK_TIMEOUT_SECONDS = env.float("PARLEY_WEBHOOK_TIMEOUT_SECONDS", default=10.0)
WEBHOOK_POLL_SECONDS = env.float("PARLEY_WEBHOOK_POLL_SECONDS", default=1.0)
# Days a delivered or failed delivery (its body and attempts: the tenant's log) is kept; the
# webhooks worker deletes older ones.
WEBHOOK_DELIVERY_RETENTION_DAYS = env.int("PARLEY_WEBHOOK_DELIVERY_RETENTION_DAYS", default=30)
# Deliveries to loopback and private addresses are refused unless allowed (development, tests).
WEBHOOK_ALLOW_PRIVATE_ADDRESSES = env.bool("PARLEY_WEBHOOK_ALLOW_PRIVATE_ADDRESSES", default=False)
