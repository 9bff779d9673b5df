"""Fixtures shared by the whole suite.

The suite runs on a real PostgreSQL: DATABASE_URL when set, otherwise the embedded server that the
settings start. Tenants have real schemas. A tenant's schema outlives a test that flushes the
public tables (transactional tests), so tenant fixtures reuse a schema that already exists.
"""

import pytest
from django.db import connection
from django_tenants.utils import schema_exists

from tenants.models import Tenant
from tenants.services import public_tenant_ensure, schema_name_for, tenant_create


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


@pytest.fixture(autouse=True)
def _public_schema_after_each_test():
    yield
    connection.set_schema_to_public()


@pytest.fixture
def make_tenant(db):
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
    stream = io.StringIO()
    previous = handler.setStream(stream)
    yield stream
    handler.setStream(previous)
