"""The plan's limits in a real daphne worker (`core.serve`) with real WebSocket clients: the
visitor socket past the plan's concurrent visitors closes 4402 after auth, and message usage is
written to the database by the worker's flusher, periodically and once more at shutdown."""

import asyncio
import json
import time

import pytest
import websockets
from django.db import connection

from config.embedded import database_url
from tenants.billing.models import MonthlyUsage
from tenants.billing.plans import FREE
from tests.support.factories import make_site, make_visitor
from tests.support.processes import Daphne, parley_environment

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def worker_environment(flush_seconds: float) -> dict[str, str]:
    environment = parley_environment(
        DATABASE_URL=database_url(connection.settings_dict),
        BILLING_USAGE_FLUSH_SECONDS=str(flush_seconds),
    )
    environment.pop("REDIS_URL", None)  # one worker: its counters in its own memory
    return environment


async def connect(port: int, site, visitor):
    client = await websockets.connect(
        f"ws://127.0.0.1:{port}/ws/chat/{visitor.room}/?site_key={site.key}", origin=site.origin
    )
    await client.send(json.dumps({"type": "auth", "token": visitor.token}))
    return client


async def joined(port: int, site, visitor):
    client = await connect(port, site, visitor)
    assert json.loads(await client.recv())["type"] == "ready"
    return client


async def say(client, client_id: str) -> None:
    await client.send(json.dumps({"type": "message", "client_id": client_id, "text": "hi"}))
    async with asyncio.timeout(5):
        while json.loads(await client.recv()).get("type") != "ack":
            pass


def month_messages(tenant) -> int:
    usage = MonthlyUsage.objects.filter(tenant=tenant).first()
    return usage.messages if usage else 0


def test_past_the_plans_visitors_a_socket_closes_4402_and_usage_is_flushed_at_shutdown(
    tenant_a,
):
    site = make_site(tenant_a)
    members = [make_visitor(site) for _ in range(FREE.concurrent_connections + 1)]

    async def scenario(port: int) -> None:
        clients = [await joined(port, site, member) for member in members[:-1]]
        one_too_many = await connect(port, site, members[-1])  # accepted, then told why
        with pytest.raises(websockets.ConnectionClosed):
            await asyncio.wait_for(one_too_many.recv(), 5)
        assert one_too_many.close_code == 4402
        # A visitor leaves: the next one gets the place.
        await clients.pop().close()
        clients.append(await joined(port, site, members[-1]))
        for n in range(3):
            await say(clients[0], f"m{n}")
        for client in clients:
            await client.close()

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
        client = await joined(port, site, visitor)
        await say(client, "m0")
        await client.close()

    with Daphne(environment=worker_environment(flush_seconds=0.2)) as worker:
        asyncio.run(say_one(worker.port))
        deadline = time.monotonic() + 10
        while month_messages(tenant_a) != 1 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert month_messages(tenant_a) == 1
