"""A soak: hundreds of real WebSocket clients chat for a minute with two daphne workers on the
Redis fan-out, watched by an agent on each worker (`tests/support/soak.py` behaves like the
widget: auth, ack, resume and resend after a reconnect). Every message must be acknowledged,
stored once and shown exactly once to every member of its room and to every agent. `make soak`
runs the same for 10 minutes (parameters: PARLEY_SOAK_*)."""

import asyncio

import pytest
from django.db import connection

from config.embedded import database_url
from tests.support.factories import make_agent, make_site
from tests.support.processes import Daphne, parley_environment
from tests.support.protocol_client import AgentClient, Timings
from tests.support.soak import (
    SoakConfig,
    check,
    make_clients,
    raise_open_files_limit,
    soak,
    stored_message_ids,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_hundreds_of_sockets_chatting_for_a_minute_lose_and_repeat_nothing(
    tenant_a, redis_url, on_plan, settings
):
    config = SoakConfig.from_environment()
    on_plan(tenant_a, "enterprise")  # hundreds of concurrent visitors
    raise_open_files_limit(4 * config.sockets + 256)
    site = make_site(tenant_a, public_rooms=True)
    environment = parley_environment(
        REDIS_URL=redis_url,
        PARLEY_FANOUT="redis",
        DATABASE_URL=database_url(connection.settings_dict),
        STRIPE_SECRET_KEY=settings.STRIPE_SECRET_KEY,  # billing on: the tenant's plan applies
    )
    timings = Timings()
    workers = []
    try:
        for _ in range(2):
            workers.append(Daphne(environment=environment).start())
        clients = make_clients(site, [worker.port for worker in workers], config, timings)
        # An agent on each worker: the tenant's every message, over Redis for half of them.
        agents = [
            AgentClient(f"agent{n}", make_agent(tenant_a), port=worker.port)
            for n, worker in enumerate(workers)
        ]
        seconds = asyncio.run(soak(clients, config, agents))
    finally:
        for worker in workers:
            worker.stop()
    stored = stored_message_ids(site, {client.room for client in clients})
    result = check(clients, stored, timings, seconds, agents)
    print(result.summary())

    assert seconds >= config.seconds
    assert result.lost == []
    assert result.duplicated == []
    assert result.messages == result.acked == result.stored > 0
    assert result.deliveries == result.expected_deliveries
    assert result.errors == {}
