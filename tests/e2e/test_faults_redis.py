"""Redis stops and comes back (same socket) under two real daphne workers: their sockets are
closed with 1011, a message acknowledged during the outage reaches everyone once they are back,
and the service recovers without a restart: sockets connect again and frames cross workers."""

import asyncio

import httpx
import pytest
from django.db import connection
from django_tenants.utils import schema_context

from config.embedded import database_url
from tenants.services import api_key_create, public_tenant_ensure
from tests.support.factories import make_site, make_visitor
from tests.support.processes import Daphne, parley_environment
from tests.support.protocol_client import VisitorClient
from tests.support.redis import RedisServer
from widget.models import Conversation, Message

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

ROOM = "plaza"


def room_state(tenant) -> tuple[int, list[int]]:
    try:
        with schema_context(tenant.schema_name):
            conversation = Conversation.objects.get(room=ROOM)
            ids = Message.objects.filter(conversation=conversation).order_by("id")
            return conversation.id, list(ids.values_list("id", flat=True))
    finally:
        connection.close()


def test_redis_stopping_and_coming_back_loses_nothing_acknowledged(tenant_a):
    public_tenant_ensure()
    site = make_site(tenant_a, public_rooms=True)
    grace, bob, carol = (make_visitor(site, room=ROOM) for _ in range(3))
    _, api_key = api_key_create(tenant=tenant_a, name="faults")
    redis_server = RedisServer()
    environment = parley_environment(
        REDIS_URL=redis_server.url,
        PARLEY_FANOUT="redis",
        DATABASE_URL=database_url(connection.settings_dict),
    )

    def post_over_api(port: int, conversation_id: int, client_id: str) -> httpx.Response:
        return httpx.post(
            f"http://127.0.0.1:{port}/api/v1/conversations/{conversation_id}/messages",
            headers={"Host": f"localhost:{port}", "Authorization": f"Bearer {api_key}"},
            json={"text": "while Redis was away", "client_id": client_id},
            timeout=20,
        )

    async def scenario(first: Daphne, second: Daphne) -> dict:
        # The clients reconnect whenever their socket is closed, as the widget does.
        g = VisitorClient("grace", site, room=ROOM, token=grace.token, port=first.port)
        b = VisitorClient("bob", site, room=ROOM, token=bob.token, port=second.port)
        for member in (g, b):
            member.start()
            await member.wait_ready()
        await g.send_message("g0", "before")
        await b.send_message("b0", "before")
        await g.wait_acked()
        await b.wait_acked()
        await g.wait_seen([*g.acks.values(), *b.acks.values()])
        await b.wait_seen([*g.acks.values(), *b.acks.values()])

        redis_server.kill()
        for member in (g, b):
            await member.wait_until(lambda member=member: member.close_codes, timeout=10)
        codes = {"grace": g.close_codes[0], "bob": b.close_codes[0]}

        # The clients keep reconnecting while Redis is away; meanwhile a message is
        # acknowledged (stored, answered 201) by the other worker, then Redis comes back.
        await asyncio.sleep(2)
        conversation_id, _ = await asyncio.to_thread(room_state, tenant_a)
        posted = await asyncio.to_thread(post_over_api, second.port, conversation_id, "api-1")
        redis_server.start()
        await asyncio.gather(*(member.wait_ready(timeout=30) for member in (g, b)))

        # Recovered without a restart: live frames cross workers again, new sockets work.
        c = VisitorClient("carol", site, room=ROOM, token=carol.token, port=first.port)
        c.start()
        await c.wait_ready(timeout=30)
        await b.send_message("b1", "b1")
        await g.send_message("g1", "g1")
        await b.wait_acked(timeout=20)
        await g.wait_acked(timeout=20)
        _, stored = await asyncio.to_thread(room_state, tenant_a)
        for member in (g, b):
            await member.wait_seen(stored, timeout=15)
        await c.wait_seen([b.acks["b1"], g.acks["g1"]], timeout=15)
        for member in (g, b, c):
            await member.stop()
        return {"codes": codes, "posted": posted, "stored": stored, "members": (g, b)}

    workers: list[Daphne] = []
    try:
        workers = [Daphne(environment=environment).start() for _ in range(2)]
        outcome = asyncio.run(asyncio.wait_for(scenario(*workers), timeout=90))
    finally:
        for worker in workers:
            worker.stop()
        redis_server.stop()

    assert outcome["codes"] == {"grace": 1011, "bob": 1011}
    assert outcome["posted"].status_code == 201, outcome["posted"].text
    posted_id = outcome["posted"].json()["id"]
    assert posted_id in outcome["stored"]
    assert len(outcome["stored"]) == 5  # g0, b0, the API's, b1, g1: each stored once
    for member in outcome["members"]:
        assert set(member.seen) == set(outcome["stored"]), member.name
        assert max(member.seen.values()) == 1, f"{member.name} saw a message twice"
