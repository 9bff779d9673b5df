"""Settings shared by every environment. Every value comes from the environment (.env.example)."""

from pathlib import Path
from urllib.parse import unquote

import environ

BASE_DIR = Path(__file__).resolve().parents[3]
env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

SECRET_KEY = env("SECRET_KEY", default="dev-only-insecure-secret-key-change-me")
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
]
TENANT_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "dashboard",
    "widget",
]
INSTALLED_APPS = SHARED_APPS + [app for app in TENANT_APPS if app not in SHARED_APPS]

TENANT_MODEL = "tenants.Tenant"
TENANT_DOMAIN_MODEL = "tenants.Domain"
PUBLIC_SCHEMA_NAME = "public"
PUBLIC_SCHEMA_URLCONF = "config.urls_public"
ROOT_URLCONF = "config.urls_tenant"
DATABASE_ROUTERS = ["django_tenants.routers.TenantSyncRouter"]
AUTH_USER_MODEL = "dashboard.User"

MIDDLEWARE = [
    # Health probes answer before tenant resolution: load balancers call them by IP address.
    "core.middleware.HealthCheckMiddleware",
    "django_tenants.middleware.main.TenantMainMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
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
            ],
        },
    },
]

ASGI_APPLICATION = "config.asgi.application"

# --- Database: DATABASE_URL, or an embedded PostgreSQL when it is unset ---------------------------
DATA_DIR = Path(env("PARLEY_DATA_DIR", default=str(BASE_DIR / ".data")))
if env("DATABASE_URL", default=""):
    DATABASES = {"default": env.db("DATABASE_URL")}
    # A Unix socket folder is given percent-encoded in the URL's host part (`%2Frun%2Fpostgresql`).
    DATABASES["default"]["HOST"] = unquote(DATABASES["default"]["HOST"])
else:
    from config.embedded import embedded_postgres_settings

    DATABASES = {"default": embedded_postgres_settings(DATA_DIR / "postgres")}
DATABASES["default"]["ENGINE"] = "django_tenants.postgresql_backend"
DATABASES["default"].setdefault("CONN_MAX_AGE", 0)
DATABASES["default"].setdefault("OPTIONS", {})
DATABASES["default"]["OPTIONS"].setdefault("connect_timeout", 5)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Channel layer: Redis across processes, in-memory for a single process ------------------------
REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [{"address": REDIS_URL, "max_connections": 1000}]},
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# --- Auth, i18n, static ---------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# --- Billing: plans and Stripe (tenants/billing/) -------------------------------------------------
# With no STRIPE_SECRET_KEY every tenant is on the free plan and the billing page says so.
STRIPE_SECRET_KEY = env("STRIPE_SECRET_KEY", default="")
STRIPE_WEBHOOK_SECRET = env("STRIPE_WEBHOOK_SECRET", default="")
# Another Stripe API address (tests point it at localstripe); unset in production.
STRIPE_API_BASE = env("STRIPE_API_BASE", default="")
# The Stripe price (or legacy plan) id of each paid plan.
STRIPE_PRICE_PRO = env("STRIPE_PRICE_PRO", default="")
STRIPE_PRICE_BUSINESS = env("STRIPE_PRICE_BUSINESS", default="")
# Days a paid plan stays after a failed payment before the free plan applies.
BILLING_GRACE_DAYS = env.int("BILLING_GRACE_DAYS", default=7)
# How long a process trusts its cached copy of a tenant's plan (other processes' changes).
BILLING_PLAN_CACHE_SECONDS = env.float("BILLING_PLAN_CACHE_SECONDS", default=30)
# How often a process writes its message counts to the database; 0 leaves it to the caller.
BILLING_USAGE_FLUSH_SECONDS = env.float("BILLING_USAGE_FLUSH_SECONDS", default=10)

# --- Demo tenant (development and tests) ----------------------------------------------------------
DEMO_CUSTOMER_PAGE_URL = env("PARLEY_DEMO_CUSTOMER_PAGE_URL", default="http://127.0.0.1:8001")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {"embedded_postgres": {"level": "WARNING"}},
}
