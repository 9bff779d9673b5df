"""Settings by environment: base (shared), local (development), test, production."""

# What production refuses to start without (production.py); infra files must provide them all.
PRODUCTION_REQUIRED = ("SECRET_KEY", "DATABASE_URL", "REDIS_URL", "PARLEY_PLATFORM_HOST")
