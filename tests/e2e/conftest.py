"""End-to-end fixtures: a real daphne serving Parley, pages on a second origin, chromium."""

from collections.abc import Callable, Iterator
from contextlib import ExitStack

import pytest
from django.db import connection

from config.embedded import database_url
from tenants.services import public_tenant_ensure
from tests.support.browser import browser_page, module_browser  # noqa: F401 (fixtures)
from tests.support.customer_pages import customer_pages
from tests.support.processes import Daphne, free_port, parley_environment


@pytest.fixture(scope="module")
def parley(django_db_setup, django_db_blocker) -> Iterator[Daphne]:
    """One daphne on the test database, reached as http://localhost:<port> (the platform host,
    which the URLs it gives out, such as the session's `ws_url`, name too)."""
    with django_db_blocker.unblock():
        public_tenant_ensure()  # committed: the platform host resolves to the public schema
        url = database_url(connection.settings_dict)
    port = free_port()
    platform_url = f"http://localhost:{port}"
    environment = parley_environment(DATABASE_URL=url, PARLEY_PLATFORM_URL=platform_url)
    environment.pop("REDIS_URL", None)
    with Daphne(environment=environment, port=port) as daphne:
        daphne.platform_url = platform_url
        yield daphne


def strict_csp(platform_url: str) -> str:
    host = platform_url.split("://", 1)[1]
    return (
        f"default-src 'none'; script-src {platform_url}; style-src {platform_url}; "
        f"connect-src {platform_url} ws://{host}; img-src {platform_url} data:"
    )


@pytest.fixture
def customer_site() -> Iterator[Callable[..., str]]:
    """Serve pages from a second origin (http://127.0.0.1:<port>) with the headers given."""
    with ExitStack() as servers:

        def serve(pages: dict[str, str], headers: dict[str, str]) -> str:
            return servers.enter_context(customer_pages(pages, headers))

        yield serve
