"""Fixtures shared by the whole suite.

The suite runs on a real PostgreSQL: DATABASE_URL when set, otherwise the embedded server that the
`tests.support.embedded_database` plugin starts (pyproject.toml's addopts). Tenants have real
schemas. A tenant's schema outlives a test that flushes the public tables (transactional tests),
so tenant fixtures reuse a schema that already exists.
"""

import pytest
from django.db import connection
from django_tenants.utils import schema_exists

from tenants.models import Tenant
from tenants.services import public_tenant_ensure, schema_name_for, tenant_create

FIXTURE_TENANT_SLUGS = ("alpha", "beta")

# Fixtures: a real Redis, the HTTP API clients (`platform`, `api_a`, `api_b`), localstripe, and
# `fresh_sockets` (the in-process socket machinery stopped after a test), and the attachments'
# storage (`attachment_storage`: the filesystem and a real S3-compatible server, `s3_server`).
pytest_plugins = [
    "tests.support.redis",
    "tests.support.api_clients",
    "tests.support.localstripe_server",
    "tests.support.sockets",
    "tests.support.object_storage",
]


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """After pytest-django has created (or reused) the test database, drop tenant schemas that
    no tenant row names any more, so every tenant schema is built from the current migrations."""
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE 't\\_%%' "
            "AND nspname NOT IN (SELECT schema_name FROM tenants_tenant)"
        )
        for (schema,) in cursor.fetchall():
            cursor.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(scope="session")
def _fixture_tenant_schemas(django_db_setup, django_db_blocker):
    """Create the fixture tenants' schemas once per run, committed. A schema created inside a
    test's transaction is rolled back with it, so every test would migrate it afresh (about 0.4 s
    each). The rows are removed with plain SQL (no signal drops the schema), which leaves the
    state `make_tenant` already handles: a current schema whose row is gone."""
    with django_db_blocker.unblock():
        for slug in FIXTURE_TENANT_SLUGS:
            if schema_exists(schema_name_for(slug)):
                continue
            tenant = tenant_create(name=slug.title(), slug=slug)
            with connection.cursor() as cursor:
                cursor.execute("DELETE FROM tenants_domain WHERE tenant_id = %s", [tenant.pk])
                cursor.execute("DELETE FROM tenants_tenant WHERE id = %s", [tenant.pk])


@pytest.fixture(autouse=True)
def _public_schema_after_each_test():
    yield
    connection.set_schema_to_public()


@pytest.fixture
def make_tenant(db, _fixture_tenant_schemas):
    """Return a function giving the tenant with a slug, creating it (and its schema) if needed."""

    def make(slug: str, name: str | None = None) -> Tenant:
        public_tenant_ensure()
        tenant = Tenant.objects.filter(slug=slug).first()
        if tenant is not None:
            return tenant
        if schema_exists(schema_name_for(slug)):
            # The row was flushed by a transactional test; the schema is still current.
            tenant = Tenant(schema_name=schema_name_for(slug), name=name or slug, slug=slug)
            tenant.save(verbosity=0)
            tenant.domains.create(domain=f"{slug}.localhost", is_primary=True)
            return tenant
        return tenant_create(name=name or slug.title(), slug=slug)

    return make


@pytest.fixture
def tenant_a(make_tenant) -> Tenant:
    return make_tenant("alpha", "Alpha Inc")


@pytest.fixture
def tenant_b(make_tenant) -> Tenant:
    return make_tenant("beta", "Beta LLC")


@pytest.fixture
def log_output():
    """What Parley's configured log handler writes while the test runs, as one string."""
    import io
    import logging

    from core.logging import RedactingFilter

    handler = next(
        h
        for h in logging.getLogger().handlers
        if any(isinstance(f, RedactingFilter) for f in h.filters)
    )

    class Output(io.StringIO):
        def getvalue(self) -> str:
            handler.flush()  # lines are written by the handler's thread
            return super().getvalue()

    stream = Output()
    previous = handler.setStream(stream)
    yield stream
    handler.setStream(previous)


@pytest.fixture(autouse=True)
def _tenant_rows_emptied_after_transactional_tests(request, django_db_blocker):
    """A transactional test commits rows in tenant schemas, which pytest-django's flush (public
    schema only) leaves behind: empty the tenants' own tables after it, as the flush does."""
    yield
    marker = request.node.get_closest_marker("django_db")
    if not (marker and marker.kwargs.get("transaction")):
        return
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT schemaname, tablename FROM pg_tables WHERE schemaname LIKE 't\\_%%' "
            "AND (tablename LIKE 'widget\\_%%' OR tablename LIKE 'accounts\\_%%' "
            "OR tablename = 'django_session')"
        )
        tables = [f'"{schema}"."{table}"' for schema, table in cursor.fetchall()]
        if tables:
            cursor.execute(f"TRUNCATE {', '.join(tables)} CASCADE")


@pytest.fixture(autouse=True)
def _process_caches_cleared():
    """Caches of this process hold rows that a test's rollback or flush removes without the
    signals that would invalidate them: start and end every test with them empty."""
    from core.caches import clear_all

    clear_all()
    yield
    clear_all()


@pytest.fixture(autouse=True)
def _billing_counters_fresh(monkeypatch):
    """Each test starts with the plan-limit counters of a freshly started process (in memory:
    the tests that need Redis's counter build their own), so counts never leak between tests."""
    from tenants.billing import process_counters
    from tenants.billing.connection_counter import ConnectionCounter
    from tenants.billing.usage import MessageCounter

    monkeypatch.setattr(process_counters, "connections", ConnectionCounter())
    monkeypatch.setattr(process_counters, "messages", MessageCounter())


@pytest.fixture
def on_plan(settings):
    """Put a tenant on a plan: `on_plan(tenant, "pro")`, as a live Stripe subscription does
    (billing configured; looking a plan up never calls Stripe)."""
    from tenants.billing.limits import plan_cache_forget
    from tenants.billing.models import BillingAccount

    def put(tenant: Tenant, plan: str) -> None:
        settings.STRIPE_SECRET_KEY = settings.STRIPE_SECRET_KEY or "sk_test_not_called"
        BillingAccount.objects.update_or_create(
            tenant=tenant, defaults={"plan": plan, "status": "active"}
        )
        plan_cache_forget(tenant.pk)

    return put
