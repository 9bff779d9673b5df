"""A worker's memory stays bounded while its room talks to clients that never read: each such
socket is cut off once its unsent frames pass PARLEY_WS_SEND_BUFFER_LIMIT, instead of the worker
buffering every frame for it (tests/e2e/test_workers_slow_reader.py shows the others keep
chatting). Twenty stalled readers in a room of 12 KB messages would otherwise cost the worker
about 20 x 500 x 12 KB = 120 MB."""

import asyncio
import json
import socket

import psutil
import pytest
import websockets
from django.db import connection

from config.embedded import database_url
from tests.support.factories import make_site, make_visitor
from tests.support.processes import Daphne, parley_environment

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

STALLED = 20
MESSAGES = 500
TEXT = "€" * 4000  # 4000 characters, 12 KB of UTF-8 in every frame
MB = 1024 * 1024


def test_stalled_readers_do_not_grow_the_workers_memory(tenant_a, on_plan, settings):
    on_plan(tenant_a, "pro")  # more concurrent visitors than the free plan's 20
    site = make_site(tenant_a, public_rooms=True)
    stalled = [make_visitor(site, room="hall") for _ in range(STALLED)]
    talker = make_visitor(site, room="hall")
    environment = parley_environment(
        DATABASE_URL=database_url(connection.settings_dict),
        STRIPE_SECRET_KEY=settings.STRIPE_SECRET_KEY,  # billing on: the tenant's plan applies
        PARLEY_WS_SEND_BUFFER_LIMIT=str(256 * 1024),
        PARLEY_WS_FRAME_RATE="100000",
        PARLEY_WS_FRAME_BURST="100000",
        PARLEY_WS_VISITOR_FRAME_RATE="100000",
        PARLEY_WS_VISITOR_FRAME_BURST="100000",
    )
    environment.pop("REDIS_URL", None)

    async def join(port: int, visitor, *, stall: bool):
        sock = None
        if stall:
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            sock.connect(("127.0.0.1", port))
        client = await websockets.connect(
            f"ws://127.0.0.1:{port}/ws/chat/hall/?site_key={site.key}",
            origin=site.origin,
            sock=sock,
            max_queue=1 if stall else 1024,
            max_size=2**20,
        )
        await client.send(json.dumps({"type": "auth", "token": visitor.token}))
        assert json.loads(await client.recv())["type"] == "ready"
        return client

    async def talk(speaker, count: int, prefix: str) -> None:
        """Send `count` messages in windows of 25, each window acknowledged before the next."""
        for window in range(0, count, 25):
            for n in range(window, window + 25):
                frame = {"type": "message", "client_id": f"{prefix}{n}", "text": TEXT}
                await speaker.send(json.dumps(frame, ensure_ascii=False))
            acked = 0
            async with asyncio.timeout(30):
                async for raw in speaker:
                    acked += json.loads(raw)["type"] == "ack"
                    if acked == 25:
                        break

    async def scenario(worker: Daphne) -> tuple[int, int]:
        process = psutil.Process(worker.process.pid)
        speaker = await join(worker.port, talker, stall=False)
        await talk(speaker, 50, "warm")  # the code paths and the connection pool, warmed up
        readers = [await join(worker.port, visitor, stall=True) for visitor in stalled]
        baseline = process.memory_info().rss
        peak = baseline
        for batch in range(MESSAGES // 50):
            await talk(speaker, 50, f"b{batch}-")
            peak = max(peak, process.memory_info().rss)
        await speaker.close()
        for reader in readers:
            reader.transport.abort()
        return baseline, peak

    with Daphne(environment=environment) as worker:
        baseline, peak = asyncio.run(asyncio.wait_for(scenario(worker), timeout=180))
    cut_off = worker.log_path.read_text().count("too slow to follow its room")
    print(f"worker RSS {baseline / MB:.0f} MB -> peak {peak / MB:.0f} MB; {cut_off} cut off")
    assert cut_off == STALLED
    assert peak - baseline < 40 * MB
