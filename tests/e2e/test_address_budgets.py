"""What sockets from one address may hold in a real daphne worker (core.serve), against real
WebSocket clients: a few sockets waiting for `auth`, each with at most a small frame half-sent.
Without these budgets, 200 sockets that never authenticated, each sending most of a 1 MiB frame,
grew a worker by 175 MB; every one of them was a place no real visitor could use."""

import asyncio
import json
import os
import struct

import psutil
import pytest
import websockets
from django.db import connection

from config.embedded import database_url
from tests.support.factories import make_site, make_visitor
from tests.support.processes import Daphne, parley_environment

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

WAITING = 5  # PARLEY_WS_ADDRESS_UNAUTHENTICATED here; 10 in production
MB = 1024 * 1024


@pytest.fixture
def worker(tenant_a):
    environment = parley_environment(
        DATABASE_URL=database_url(connection.settings_dict),
        PARLEY_WS_ADDRESS_UNAUTHENTICATED=str(WAITING),
    )
    environment.pop("REDIS_URL", None)
    with Daphne(environment=environment) as daphne:
        yield daphne


@pytest.fixture
def site(tenant_a):
    return make_site(tenant_a)


def connect(worker: Daphne, site, room: str = "lobby"):
    return websockets.connect(
        f"ws://127.0.0.1:{worker.port}/ws/chat/{room}/?site_key={site.key}",
        origin=site.origin,
        max_size=2**20,
    )


async def close_code(client) -> int:
    async with asyncio.timeout(10):  # a limit for a hung worker, not a speed check
        try:
            while True:
                await client.recv()
        except websockets.ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd else 1006


def frame_header(length: int) -> bytes:
    """The header of a masked text frame of `length` bytes, as a browser sends it."""
    return bytes([0x81, 0x80 | 127]) + struct.pack("!Q", length) + os.urandom(4)


def test_an_address_waits_for_auth_on_a_few_sockets_and_a_visitor_who_authenticates_frees_one(
    worker, site
):
    visitor = make_visitor(site)

    async def scenario():
        waiting = [await connect(worker, site, visitor.room) for _ in range(WAITING)]
        one_more = await connect(worker, site, visitor.room)
        refused = await close_code(one_more)
        # One of the waiting sockets authenticates: it no longer waits, and a place is free.
        await waiting[0].send(json.dumps({"type": "auth", "token": visitor.token}))
        async with asyncio.timeout(10):
            ready = json.loads(await waiting[0].recv())
        again = await connect(worker, site, visitor.room)
        await again.send(json.dumps({"type": "ping"}))  # not auth: the socket is closed 4400
        second = await close_code(again)
        for client in waiting:
            await client.close()
        return refused, ready["type"], second

    refused, ready, second = asyncio.run(scenario())
    assert refused == 4429
    assert ready == "ready"
    assert second == 4400  # admitted: closed for its frame, not for its address


def test_a_frame_over_4_kib_before_auth_closes_the_socket_and_costs_the_worker_nothing(
    worker, site
):
    visitor = make_visitor(site)

    async def scenario():
        process = psutil.Process(worker.process.pid)
        baseline = process.memory_info().rss
        codes = []
        for _ in range(40):  # eight times what may wait at once: each is closed at its header
            client = await connect(worker, site)
            client.transport.write(frame_header(MB - 1024) + b"a" * (256 * 1024))
            codes.append(await close_code(client))
        grown = process.memory_info().rss - baseline
        # After auth, a message of 12 KB (within the contract's 16 KiB) is stored as before.
        async with connect(worker, site, visitor.room) as talker:
            await talker.send(json.dumps({"type": "auth", "token": visitor.token}))
            await talker.recv()
            text = "€" * 4000
            frame = {"type": "message", "client_id": "big", "text": text}
            await talker.send(json.dumps(frame, ensure_ascii=False))
            async with asyncio.timeout(10):
                answer = {"type": None}
                while answer["type"] not in ("ack", "error"):  # its live copy may come first
                    answer = json.loads(await talker.recv())
        return codes, grown, answer

    codes, grown, answer = asyncio.run(scenario())
    # autobahn drops the connection at the frame's header, before it buffers any of it (its
    # servers fail by dropping: the client sees 1006, or 1009 when the close frame gets out).
    assert set(codes) <= {1006, 1009}, codes
    assert grown < 20 * MB, grown / MB
    assert answer["type"] == "ack", answer
