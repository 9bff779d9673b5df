"""Two daphne workers, one Redis, real WebSocket clients: a visitor on one worker and an agent on
the other chat both ways; one worker is killed (SIGKILL) mid-conversation, its visitor reconnects
to the other, resumes with `since`, resends what was not acknowledged, and every message is seen
exactly once by every member."""

import asyncio
import signal

import pytest
from django.db import connection
from django_tenants.utils import schema_context

from config.embedded import database_url
from tests.support.factories import make_agent, make_site, make_visitor
from tests.support.processes import Daphne, parley_environment
from tests.support.protocol_client import AgentClient, VisitorClient
from widget.models import Message

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def workers(redis_url):
    environment = parley_environment(
        REDIS_URL=redis_url,
        PARLEY_FANOUT="redis",
        DATABASE_URL=database_url(connection.settings_dict),
    )
    started = []
    try:
        for _ in range(2):
            started.append(Daphne(environment=environment).start())
        yield started
    finally:
        for worker in started:
            worker.stop()


def stored_ids(tenant, room: str) -> list[int]:
    """Read from a helper thread: its connection is closed after, so none is left open."""
    try:
        with schema_context(tenant.schema_name):
            rows = Message.objects.filter(conversation__room=room).order_by("id")
            return list(rows.values_list("id", flat=True))
    finally:
        connection.close()


def test_a_conversation_survives_the_loss_of_a_worker(tenant_a, workers):
    first, second = workers
    site = make_site(tenant_a)
    visitor = make_visitor(site, name="Grace")
    agent = make_agent(tenant_a)

    async def conversation():
        grace = VisitorClient("visitor", site, room=visitor.room, token=visitor.token)
        ada = AgentClient("agent", agent)
        await ada.connect(second.port)
        await grace.connect(first.port)

        # Both ways, across workers.
        for n in range(5):
            await grace.send_message(f"v{n}", f"visitor {n}")
            await ada.send_message(f"a{n}", f"agent {n}", conversation=visitor.room)
        await grace.wait_acked()
        await ada.wait_acked()
        both = list(grace.acks.values()) + list(ada.acks.values())
        await grace.wait_seen(both)
        await ada.wait_seen(both)

        # Messages in flight when the visitor's worker dies.
        for n in range(5, 10):
            await grace.send_message(f"v{n}", f"visitor {n}")
        first.process.send_signal(signal.SIGKILL)
        first.process.wait()
        await grace.disconnected()  # the socket is gone

        await grace.connect(second.port)
        for n in range(5, 8):
            await ada.send_message(f"a{n}", f"agent {n}", conversation=visitor.room)
        await grace.wait_acked()
        await ada.wait_acked()

        ids = await asyncio.to_thread(stored_ids, tenant_a, visitor.room)
        await grace.wait_seen(ids)
        await ada.wait_seen(ids)
        await grace.stop()
        await ada.stop()
        return grace, ada, ids

    grace, ada, ids = asyncio.run(asyncio.wait_for(conversation(), timeout=60))

    assert len(ids) == 18  # 10 from the visitor, 8 from the agent: each stored once
    assert set(grace.acks) == {f"v{n}" for n in range(10)}
    for member in (grace, ada):
        assert set(member.seen) == set(ids), member.name
        assert max(member.seen.values()) == 1, f"{member.name} saw a message twice"
