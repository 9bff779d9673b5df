"""Redis stops and comes back (same socket) under two real daphne workers: their sockets are
closed with 1011, a message acknowledged during the outage reaches everyone once they are back,
and the service recovers without a restart: sockets connect again and frames cross workers."""

import asyncio
import contextlib

import httpx
import pytest
import websockets
from django.db import connection
from django_tenants.utils import schema_context

from config.embedded import database_url
from tenants.services import api_key_create, public_tenant_ensure
from tests.support.clients import ChatMember
from tests.support.factories import make_site, make_visitor
from tests.support.processes import Daphne, parley_environment
from tests.support.redis import RedisServer
from widget.models import Conversation, Message

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

ROOM = "plaza"


async def reconnect(member: ChatMember, port: int) -> None:
    """Like the widget: try again (0.3 s apart here) until the socket reaches `ready`."""
    while True:
        try:
            await member.connect(port)
            return
        except (OSError, AssertionError, websockets.WebSocketException):
            await asyncio.sleep(0.3)


async def stay_connected(member: ChatMember, port: int, back: asyncio.Event) -> None:
    """Reconnect whenever the socket is closed (as the widget does) until cancelled; `back` is
    set each time it reaches `ready`."""
    while True:
        await reconnect(member, port)
        back.set()
        await member.reader


async def send(member: ChatMember, client_id: str) -> None:
    """Send, or leave it unacknowledged for the next reconnect to resend."""
    with contextlib.suppress(websockets.ConnectionClosed):
        await member.send_message(client_id, client_id)


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
        g, b = ChatMember("grace", site, grace), ChatMember("bob", site, bob)
        await g.connect(first.port)
        await b.connect(second.port)
        await g.send_message("g0", "before")
        await b.send_message("b0", "before")
        await g.wait_acked()
        await b.wait_acked()
        await g.wait_seen([*g.acks.values(), *b.acks.values()])
        await b.wait_seen([*g.acks.values(), *b.acks.values()])

        redis_server.kill()
        async with asyncio.timeout(10):
            await g.reader
            await b.reader
        codes = {"grace": g.socket.close_code, "bob": b.socket.close_code}

        # The clients keep reconnecting while Redis is away; meanwhile a message is
        # acknowledged (stored, answered 201) by the other worker, then Redis comes back.
        back = {"grace": asyncio.Event(), "bob": asyncio.Event()}
        keeping = [
            asyncio.create_task(stay_connected(g, first.port, back["grace"])),
            asyncio.create_task(stay_connected(b, second.port, back["bob"])),
        ]
        await asyncio.sleep(2)
        conversation_id, _ = await asyncio.to_thread(room_state, tenant_a)
        posted = await asyncio.to_thread(post_over_api, second.port, conversation_id, "api-1")
        redis_server.start()
        async with asyncio.timeout(30):
            await asyncio.gather(*(event.wait() for event in back.values()))

        # Recovered without a restart: live frames cross workers again, new sockets work.
        c = ChatMember("carol", site, carol)
        await reconnect(c, first.port)
        await send(b, "b1")
        await send(g, "g1")
        await b.wait_acked(timeout=20)
        await g.wait_acked(timeout=20)
        _, stored = await asyncio.to_thread(room_state, tenant_a)
        for member in (g, b):
            await member.wait_seen(stored, timeout=15)
        await c.wait_seen([b.acks["b1"], g.acks["g1"]], timeout=15)
        for task in keeping:
            task.cancel()
        await asyncio.gather(*keeping, return_exceptions=True)
        for member in (g, b, c):
            await member.socket.close()
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
