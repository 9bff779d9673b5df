"""Round-robin assignment across two daphne workers on one Redis: Ada's agent socket is on the
first worker, Bob's on the second, and visitors write their first messages through either.
Each worker sees the other's agent as online (presence in Redis), so new conversations go to
Ada and Bob in turn whichever worker takes them; once Bob's socket closes, they go to Ada alone."""

import asyncio
import time

import pytest
import redis
from django.db import connection
from django_tenants.utils import schema_context

from config.embedded import database_url
from tenants.models import Site
from tests.support.factories import make_agent, make_site, make_visitor
from tests.support.processes import Daphne, parley_environment
from tests.support.protocol_client import AgentClient, VisitorClient
from widget.models import Conversation

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

WITHIN = 30  # seconds: a limit for a hung test, not a measure of speed


def assignee_of(site, room: str) -> int | None:
    """The conversation's stored assignee, once its first message has been stored."""
    deadline = time.monotonic() + WITHIN
    while time.monotonic() < deadline:
        with schema_context(site.tenant.schema_name):
            conversation = Conversation.objects.filter(room=room).first()
            if conversation is not None and conversation.last_message_at is not None:
                return conversation.assignee_id
        time.sleep(0.1)
    raise AssertionError(f"no message stored in {room} within {WITHIN} s")


def wait_offline(redis_url: str, tenant_id: int, member_id: int) -> None:
    """Until no worker vouches for the member any more (its socket's close has been handled)."""
    client = redis.Redis.from_url(redis_url)
    deadline = time.monotonic() + WITHIN
    while time.monotonic() < deadline:
        fields = client.hkeys(f"parley:agents:t{tenant_id}")
        if not any(name.decode().endswith(f"|{member_id}") for name in fields):
            return
        time.sleep(0.1)
    raise AssertionError(f"member {member_id} still present after {WITHIN} s")


def test_conversations_go_to_online_agents_in_turn_whichever_worker_takes_them(tenant_a, redis_url):
    site = make_site(tenant_a)
    Site.objects.filter(pk=site.site.pk).update(auto_assign=True)
    ada, bob = make_agent(tenant_a), make_agent(tenant_a)
    visitors = [make_visitor(site, name=name) for name in ("Ines", "Jon", "Kim", "Lea", "Max")]
    environment = parley_environment(
        REDIS_URL=redis_url,
        PARLEY_FANOUT="redis",
        DATABASE_URL=database_url(connection.settings_dict),
    )

    async def first_message(visitor, worker: Daphne) -> int | None:
        client = VisitorClient(visitor.name, site, room=visitor.room, token=visitor.token)
        await client.connect(worker.port)
        await client.send_message(f"{visitor.name}-1", "Hello?")
        await client.wait_acked(timeout=WITHIN)
        await client.stop()
        return await asyncio.to_thread(assignee_of, site, visitor.room)

    async def scenario(first: Daphne, second: Daphne) -> None:
        ada_socket, bob_socket = AgentClient("ada", ada), AgentClient("bob", bob)
        await ada_socket.connect(first.port)
        await bob_socket.connect(second.port)
        workers = [first, second, second, first]
        given = [
            await first_message(visitor, worker)
            for visitor, worker in zip(visitors[:4], workers, strict=True)
        ]
        assert sorted(given[:2]) == sorted([ada.user_id, bob.user_id])  # one each
        assert given[2:] == given[:2]  # then the same order again

        await bob_socket.stop()  # Bob signs out of the second worker
        await asyncio.to_thread(wait_offline, redis_url, tenant_a.id, bob.user_id)
        assert await first_message(visitors[4], first) == ada.user_id
        await ada_socket.stop()

    with (
        Daphne(environment=environment) as first,
        Daphne(environment=environment) as second,
    ):
        asyncio.run(asyncio.wait_for(scenario(first, second), timeout=4 * WITHIN))
