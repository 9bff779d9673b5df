"""`parley_sockets_open` has a series for a tenant only while the tenant has a socket on the
worker: tenants that come and go do not leave a series each behind, forever."""

import pytest
from channels.db import database_sync_to_async
from prometheus_client.parser import text_string_to_metric_families

from core import metrics
from tenants.models import Tenant
from tests.support.factories import SiteFixture, make_site
from tests.support.sockets import chat_socket

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fresh_sockets")]

TENANTS = 50
DISCONNECT_LIMIT = 30  # seconds: a limit for a hung consumer, not a speed check


def sites_of_new_tenants() -> list[SiteFixture]:
    """A site for each of 50 new tenants. The tenants are rows without a schema: these sockets
    open and close before `auth`, the first step that reads a tenant's schema, and 50 migrated
    schemas would take minutes to build."""
    sites = []
    for n in range(TENANTS):
        tenant = Tenant(schema_name=f"t_gauge_{n}", name=f"Gauge {n}", slug=f"gauge-{n}")
        tenant.auto_create_schema = False
        tenant.save()
        sites.append(make_site(tenant))
    return sites


def open_sockets_exposed() -> dict[str, float]:
    """Tenant id -> its chat sockets, as the exposition (what Prometheus scrapes) shows them."""
    text = metrics.render()[0].decode()
    return {
        sample.labels["tenant"]: sample.value
        for family in text_string_to_metric_families(text)
        if family.name == "parley_sockets_open"
        for sample in family.samples
        if sample.labels["kind"] == "chat"
    }


async def opened(site: SiteFixture):
    socket = chat_socket(site, "lobby")
    connected, _ = await socket.connect()
    assert connected
    return socket


async def test_a_tenant_with_no_socket_left_has_no_series():
    sites = await database_sync_to_async(sites_of_new_tenants)()
    tenants = {str(site.tenant.id) for site in sites}
    sockets = [await opened(site) for site in sites]
    assert {tenant: 1.0 for tenant in tenants}.items() <= open_sockets_exposed().items()

    # The last tenant opens a second socket as its first one closes: its series stays.
    staying = await opened(sites[-1])
    for socket in sockets:
        await socket.disconnect(timeout=DISCONNECT_LIMIT)
    exposed = open_sockets_exposed()
    assert {tenant: exposed[tenant] for tenant in tenants & exposed.keys()} == {
        str(sites[-1].tenant.id): 1.0
    }

    await staying.disconnect(timeout=DISCONNECT_LIMIT)
    assert not tenants & open_sockets_exposed().keys()
    # A tenant whose series was removed gets it back with its next socket.
    again = await opened(sites[0])
    assert open_sockets_exposed()[str(sites[0].tenant.id)] == 1.0
    await again.disconnect(timeout=DISCONNECT_LIMIT)
