"""Each tenant gets its own PostgreSQL schema, reached through its own host name."""

import pytest
from django.core.management.sql import emit_post_migrate_signal
from django.db import connection
from django_tenants.utils import tenant_context

from accounts.models import User
from tenants.models import Domain
from tenants.services import tenant_create

pytestmark = pytest.mark.django_db


def schema_tables(schema: str) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = %s", [schema])
        return {row[0] for row in cursor.fetchall()}


def test_a_new_tenant_gets_a_migrated_schema_and_a_host(tenant_a):
    assert tenant_a.schema_name == "t_alpha"
    assert {"accounts_user", "django_session"} <= schema_tables("t_alpha")
    assert "tenants_tenant" not in schema_tables("t_alpha")
    assert tenant_a.domains.get().domain == "alpha.localhost"


def test_rows_written_in_one_tenant_are_invisible_in_another(tenant_a, tenant_b):
    with tenant_context(tenant_a):
        User.objects.create_user(email="ann@alpha.test", password="x-long-password-1")
    with tenant_context(tenant_b):
        assert not User.objects.filter(email="ann@alpha.test").exists()
        User.objects.create_user(email="bob@beta.test", password="x-long-password-2")
    with tenant_context(tenant_a):
        assert set(User.objects.values_list("email", flat=True)) >= {"ann@alpha.test"}
        assert not User.objects.filter(email="bob@beta.test").exists()


def test_the_host_name_selects_the_tenant(client, tenant_a, tenant_b):
    with tenant_context(tenant_a):
        User.objects.create_user(email="host@alpha.test", password="x-long-password-3")
    own = client.post(
        "/login/",
        {"username": "host@alpha.test", "password": "x-long-password-3"},
        HTTP_HOST="alpha.localhost",
    )
    assert own.status_code == 302
    other = client.post(
        "/login/",
        {"username": "host@alpha.test", "password": "x-long-password-3"},
        HTTP_HOST="beta.localhost",
    )
    assert other.status_code == 200  # the form again: no such user on beta's host


def test_invalid_slugs_are_refused():
    with pytest.raises(ValueError, match="invalid tenant slug"):
        tenant_create(name="Bad", slug="Bad Slug!")


def test_migrating_the_public_schema_makes_the_platform_host_served(settings):
    """A new deployment's migration job leaves the platform host's tenant row and domain."""
    Domain.objects.filter(domain=settings.PLATFORM_HOST).delete()
    emit_post_migrate_signal(verbosity=0, interactive=False, db="default")
    domain = Domain.objects.get(domain=settings.PLATFORM_HOST)
    assert domain.tenant.schema_name == settings.PUBLIC_SCHEMA_NAME
