"""The plan's limits in a real daphne worker (`core.serve`) with real WebSocket clients: the
visitor socket past the plan's concurrent visitors closes 4402 after auth, and message usage is
written to the database by the worker's flusher, periodically and once more at shutdown."""

import asyncio
import time

import pytest
import websockets
from django.db import connection

from config.embedded import database_url
from tenants.billing.models import MonthlyUsage
from tenants.billing.plans import FREE
from tests.support.factories import make_site, make_visitor
from tests.support.processes import Daphne, parley_environment
from tests.support.protocol_client import VisitorClient

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def worker_environment(flush_seconds: float) -> dict[str, str]:
    environment = parley_environment(
        DATABASE_URL=database_url(connection.settings_dict),
        BILLING_USAGE_FLUSH_SECONDS=str(flush_seconds),
    )
    environment.pop("REDIS_URL", None)  # one worker: its counters in its own memory
    return environment


async def say(client: VisitorClient, client_id: str) -> None:
    await client.send_message(client_id, "hi")
    await client.wait_acked(timeout=5)


def month_messages(tenant) -> int:
    usage = MonthlyUsage.objects.filter(tenant=tenant).first()
    return usage.messages if usage else 0


def test_past_the_plans_visitors_a_socket_closes_4402_and_usage_is_flushed_at_shutdown(
    tenant_a,
):
    site = make_site(tenant_a)
    members = [make_visitor(site) for _ in range(FREE.concurrent_connections + 1)]

    async def scenario(port: int) -> None:
        clients = [
            VisitorClient(f"v{n}", site, room=member.room, token=member.token, port=port)
            for n, member in enumerate(members)
        ]
        for client in clients[:-1]:
            await client.connect()
        one_too_many = clients.pop()  # accepted, then told why
        with pytest.raises(websockets.ConnectionClosed):
            await asyncio.wait_for(one_too_many.connect(), 5)
        assert one_too_many.close_codes == [4402]
        # A visitor leaves: the next one gets the place.
        await clients.pop().stop()
        await one_too_many.connect()
        clients.append(one_too_many)
        for n in range(3):
            await say(clients[0], f"m{n}")
        for client in clients:
            await client.stop()

    # The periodic flush is an hour away: only the flush at shutdown can write the counts.
    with Daphne(environment=worker_environment(flush_seconds=3600)) as worker:
        asyncio.run(scenario(worker.port))
        assert month_messages(tenant_a) == 0
    assert worker.process.returncode == 0
    assert month_messages(tenant_a) == 3


def test_a_running_worker_flushes_message_usage_periodically(tenant_a):
    site = make_site(tenant_a)
    visitor = make_visitor(site)

    async def say_one(port: int) -> None:
        client = VisitorClient("visitor", site, room=visitor.room, token=visitor.token, port=port)
        await client.connect()
        await say(client, "m0")
        await client.stop()

    with Daphne(environment=worker_environment(flush_seconds=0.2)) as worker:
        asyncio.run(say_one(worker.port))
        deadline = time.monotonic() + 10
        while month_messages(tenant_a) != 1 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert month_messages(tenant_a) == 1
