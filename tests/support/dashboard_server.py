"""A tenant's dashboard served by a real daphne on the test database, for browser tests.

`dashboard_server(django_db_blocker, slug=...)` creates a tenant with an owner and a site (its
schema committed, so daphne sees it), starts one daphne worker (in-memory channel layer: one
worker needs no Redis, unless the test gives REDIS_URL for processes of its own) and yields a
`DashboardServer`; on exit it stops daphne and drops the tenant. `seed` runs inside the
tenant's schema before daphne starts, to add members, conversations and messages.
`log_in(page, server)` signs the owner in through the real form.

    @pytest.fixture(scope="module")
    def server(django_db_setup, django_db_blocker):
        with dashboard_server(django_db_blocker, slug="inbox-e2e", seed=_seed) as running:
            yield running
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.db import connection
from django_tenants.utils import tenant_context

from accounts.models import Role, User
from config.embedded import database_url
from tenants.models import Site, Tenant
from tenants.services import public_tenant_ensure, site_create, tenant_create
from tests.support.processes import Daphne, free_port, parley_environment

OWNER_PASSWORD = "a-long-enough-passphrase-42"


@dataclass
class DashboardServer:
    daphne: Daphne
    tenant: Tenant
    site: Site
    owner: User
    owner_email: str
    owner_password: str
    platform_url: str
    tenant_url: str
    seeded: dict = field(default_factory=dict)

    def in_tenant(self):
        """`with server.in_tenant():` queries the tenant's schema (from the test's thread)."""
        return tenant_context(self.tenant)


def _drop(slug: str) -> None:
    for tenant in Tenant.objects.filter(slug=slug):
        tenant.delete(force_drop=True)


@contextmanager
def dashboard_server(
    django_db_blocker,
    *,
    slug: str,
    name: str = "",
    origins: tuple[str, ...] = ("https://shop.test",),
    seed: Callable[[Tenant, Site, User], dict | None] | None = None,
    **environment: str,
) -> Iterator[DashboardServer]:
    owner_email = f"owner@{slug}.test"
    with django_db_blocker.unblock():
        public_tenant_ensure()
        _drop(slug)
        tenant = tenant_create(name=name or slug.replace("-", " ").title(), slug=slug)
        site = site_create(tenant=tenant, name=f"{tenant.name} site", allowed_origins=list(origins))
        with tenant_context(tenant):
            owner = User.objects.create_user(
                email=owner_email, password=OWNER_PASSWORD, role=Role.OWNER
            )
            seeded = (seed(tenant, site, owner) if seed else None) or {}
        url = database_url(connection.settings_dict)
    port = free_port()
    env = parley_environment(
        DATABASE_URL=url, PARLEY_PLATFORM_URL=f"http://localhost:{port}", **environment
    )
    if "REDIS_URL" not in environment:
        env.pop("REDIS_URL", None)
    try:
        with Daphne(environment=env, port=port) as daphne:
            yield DashboardServer(
                daphne=daphne,
                tenant=tenant,
                site=site,
                owner=owner,
                owner_email=owner_email,
                owner_password=OWNER_PASSWORD,
                platform_url=f"http://localhost:{port}",
                tenant_url=f"http://{slug}.localhost:{port}",
                seeded=seeded,
            )
    finally:
        with django_db_blocker.unblock():
            _drop(slug)


def log_in(page, server: DashboardServer, *, email: str = "", password: str = "") -> None:
    """Sign in through the dashboard's login form; lands on the inbox."""
    page.goto(f"{server.tenant_url}/login/")
    page.fill("#id_username", email or server.owner_email)
    page.fill("#id_password", password or server.owner_password)
    page.click("#login-submit")
    page.wait_for_url(f"{server.tenant_url}/")
