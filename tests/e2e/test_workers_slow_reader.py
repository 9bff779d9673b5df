"""A client that stops reading while its room keeps talking is cut off once its unsent frames pass
the limit, instead of growing the worker's memory without bound or losing frames silently; the
others in the room keep chatting."""

import asyncio
import contextlib
import json
import socket
import time

import pytest
import websockets
from django.db import connection

from config.embedded import database_url
from tenants.billing.connection_counter import RedisConnectionCounter
from tests.support.factories import make_site, make_visitor
from tests.support.processes import Daphne, parley_environment

DROPPED = "too slow to follow its room"

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_client_too_slow_to_follow_its_room_is_cut_off(tenant_a, redis_url, on_plan, settings):
    on_plan(tenant_a, "business")  # up to 2,000 messages: past the free plan's month
    site = make_site(tenant_a, public_rooms=True)
    slow, talker, listener = (make_visitor(site, room="busy") for _ in range(3))
    environment = parley_environment(
        STRIPE_SECRET_KEY=settings.STRIPE_SECRET_KEY,
        REDIS_URL=redis_url,
        PARLEY_FANOUT="redis",
        DATABASE_URL=database_url(connection.settings_dict),
        PARLEY_WS_SEND_BUFFER_LIMIT="65536",
        PARLEY_WS_FRAME_RATE="100000",
        PARLEY_WS_FRAME_BURST="100000",
        PARLEY_WS_VISITOR_FRAME_RATE="100000",
        PARLEY_WS_VISITOR_FRAME_BURST="100000",
    )

    async def join(port: int, visitor, *, receive_buffer: int | None = None):
        url = f"ws://127.0.0.1:{port}/ws/chat/busy/?site_key={site.key}"
        sock = None
        if receive_buffer:
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
            sock.connect(("127.0.0.1", port))
        client = await websockets.connect(
            url, origin=site.origin, sock=sock, max_queue=4, max_size=2**20
        )
        await client.send(json.dumps({"type": "auth", "token": visitor.token}))
        assert json.loads(await client.recv())["type"] == "ready"
        return client

    async def scenario(worker: Daphne) -> None:
        port = worker.port
        stalled = await join(port, slow, receive_buffer=4096)
        speaker = await join(port, talker)
        follower = await join(port, listener)
        assert places.current(tenant_a.pk) == 3  # the plan's concurrent visitors, in Redis

        async def follow() -> int:
            count = 0
            async for _ in follower:
                count += 1
            return count

        following = asyncio.create_task(follow())
        # The kernel buffers a few MB for a stalled reader before the worker has to: talk until
        # the stalled socket is cut off (4 KB messages, acknowledged in windows of 50).
        text = "x" * 4000
        for window in range(40):
            for n in range(50):
                frame = {"type": "message", "client_id": f"m{window}-{n}", "text": text}
                await speaker.send(json.dumps(frame))
            acked = 0
            async with asyncio.timeout(20):
                async for raw in speaker:
                    acked += json.loads(raw)["type"] == "ack"
                    if acked == 50:
                        break
            if DROPPED in worker.log_path.read_text():
                break
        # The stalled client learns it was cut off (1006, no close frame) as soon as it uses the
        # connection again: it then reconnects and resumes with `since`.
        with contextlib.suppress(websockets.ConnectionClosed):
            await stalled.ping()
        async with asyncio.timeout(10):
            await stalled.wait_closed()
        assert stalled.close_code == 1006
        # The others are unaffected.
        await speaker.send(json.dumps({"type": "ping"}))
        await follower.close()
        assert await following > 0
        async with asyncio.timeout(5):
            async for raw in speaker:
                if json.loads(raw)["type"] == "pong":
                    break
        await speaker.close()

    places = RedisConnectionCounter(redis_url)
    with Daphne(environment=environment) as worker:
        asyncio.run(scenario(worker))
        # Cut off or closed, each socket gave back its place of the plan, once.
        deadline = time.monotonic() + 5
        while places.current(tenant_a.pk) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert places.current(tenant_a.pk) == 0
    assert DROPPED in worker.log_path.read_text()
