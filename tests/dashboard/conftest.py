"""Dashboard fixtures: members of a tenant's team and browsers (test clients) on a tenant's host."""

import pytest
from django.core.cache import cache
from django.test import Client
from django_tenants.utils import tenant_context

from accounts.models import Role, User
from tenants.models import Tenant
from tenants.services import public_tenant_ensure
from tests.support.browser import browser_page, module_browser  # noqa: F401 (chromium fixtures)

PASSWORD = "a-long-enough-passphrase-42"


@pytest.fixture(scope="session")
def _tenants_built_once(django_db_setup, django_db_blocker):
    """Commit alpha and beta (rows and schemas) once per run. Otherwise every test would build
    both schemas inside its own transaction and roll them back, about a second per test."""
    with django_db_blocker.unblock():
        public_tenant_ensure()
        for slug, name in (("alpha", "Alpha Inc"), ("beta", "Beta LLC")):
            if not Tenant.objects.filter(slug=slug).exists():
                tenant = Tenant(schema_name=f"t_{slug}", name=name, slug=slug)
                tenant.save(verbosity=0)  # creates the schema, or keeps an existing current one
                tenant.domains.get_or_create(domain=f"{slug}.localhost", is_primary=True)


@pytest.fixture
def tenant_a(_tenants_built_once, make_tenant) -> Tenant:
    return make_tenant("alpha", "Alpha Inc")


@pytest.fixture
def tenant_b(_tenants_built_once, make_tenant) -> Tenant:
    return make_tenant("beta", "Beta LLC")


@pytest.fixture(autouse=True)
def _fresh_throttles():
    """Throttle counters live in the (local memory) cache, which outlives a test."""
    cache.clear()
    yield
    cache.clear()


def host_of(tenant) -> str:
    return f"{tenant.slug}.localhost"


@pytest.fixture
def make_member():
    def make(tenant, email: str, role: str = Role.AGENT, *, active: bool = True) -> User:
        with tenant_context(tenant):
            return User.objects.create_user(
                email=email, password=PASSWORD, role=role, is_active=active
            )

    return make


@pytest.fixture
def tenant_client():
    """A test client on a tenant's host, optionally signed in as a member."""

    def make(tenant, member: User | None = None, **options) -> Client:
        client = Client(HTTP_HOST=host_of(tenant), **options)
        if member is not None:
            with tenant_context(tenant):
                client.force_login(member)
        return client

    return make


@pytest.fixture
def owner(tenant_a, make_member) -> User:
    return make_member(tenant_a, "owner@alpha.test", Role.OWNER)


@pytest.fixture
def admin(tenant_a, make_member) -> User:
    return make_member(tenant_a, "admin@alpha.test", Role.ADMIN)


@pytest.fixture
def agent(tenant_a, make_member) -> User:
    return make_member(tenant_a, "agent@alpha.test", Role.AGENT)
