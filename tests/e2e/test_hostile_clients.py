"""Hostile and broken clients against a real daphne worker (core.serve): a slow-loris that sends
part of an upgrade request and stalls (or trickles a byte at a time), a connection that says
nothing, a socket that never authenticates, and a client flooding frames. Each is cut off within
its bound while the worker keeps serving everyone else."""

import asyncio
import contextlib
import json
import socket
import threading
import time

import httpx
import pytest
import websockets
from django.db import connection

from config.embedded import database_url
from core.serve import DEFAULT_OPTIONS, ParleyCommandLine
from tests.support.factories import make_site, make_visitor
from tests.support.processes import Daphne, parley_environment

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

REQUEST_TIMEOUT = 2  # PARLEY_HTTP_REQUEST_TIMEOUT here; 10 s in production
AUTH_TIMEOUT = 2  # PARLEY_WS_AUTH_TIMEOUT here; 10 s in production
PARTIAL_UPGRADE = (
    b"GET /ws/chat/lobby/?site_key=pk_x HTTP/1.1\r\nHost: localhost\r\n"
    b"Upgrade: websocket\r\nConnection: Upgrade\r\n"
)


@pytest.fixture
def worker(tenant_a):
    environment = parley_environment(
        DATABASE_URL=database_url(connection.settings_dict),
        PARLEY_HTTP_REQUEST_TIMEOUT=str(REQUEST_TIMEOUT),
        PARLEY_WS_AUTH_TIMEOUT=str(AUTH_TIMEOUT),
    )
    environment.pop("REDIS_URL", None)
    with Daphne(environment=environment) as daphne:
        yield daphne


def seconds_until_closed(port: int, first: bytes, trickle: bytes = b"") -> float:
    """Send `first`, then one byte of `trickle` every 0.5 s; return when the server closes."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(first)
        closed = threading.Event()

        def dribble():
            for byte in trickle:
                if closed.wait(0.5):
                    return
                try:
                    sock.send(bytes([byte]))
                except OSError:
                    return

        threading.Thread(target=dribble, daemon=True).start()
        sock.settimeout(30)
        try:
            while sock.recv(4096):
                pass
        except ConnectionResetError:
            pass
        closed.set()
    return time.monotonic() - started


@pytest.mark.parametrize(
    ("first", "trickle"),
    [
        (PARTIAL_UPGRADE, b""),  # stalls in the middle of its headers
        (PARTIAL_UPGRADE, b"X-Slow: " + b"a" * 60),  # a header line, one byte at a time
        (b"", b""),  # connects and says nothing
    ],
    ids=["stalled", "trickling", "silent"],
)
def test_a_request_that_does_not_arrive_in_time_is_cut_off(worker, first, trickle):
    elapsed = seconds_until_closed(worker.port, first, trickle)
    # Closed by the deadline (the checker may run up to a second late), not at once.
    assert REQUEST_TIMEOUT - 0.5 <= elapsed <= REQUEST_TIMEOUT + 2, elapsed
    assert httpx.get(f"{worker.url}/healthz", timeout=5).status_code == 200
    assert "request took over" in worker.log_path.read_text()


def test_a_socket_that_never_authenticates_is_closed_4401(worker, tenant_a):
    site = make_site(tenant_a)

    async def silent() -> tuple[int, float]:
        url = f"ws://127.0.0.1:{worker.port}/ws/chat/lobby/?site_key={site.key}"
        async with websockets.connect(url, origin=site.origin) as client:
            started = time.monotonic()
            await asyncio.wait_for(client.wait_closed(), timeout=AUTH_TIMEOUT + 5)
            return client.close_code, time.monotonic() - started

    code, elapsed = asyncio.run(silent())
    assert code == 4401
    assert elapsed <= AUTH_TIMEOUT + 1.5


def test_a_frame_flood_is_refused_then_closed_4429(worker, tenant_a):
    site = make_site(tenant_a)
    visitor = make_visitor(site)

    async def flood() -> tuple[list[dict], int]:
        url = f"ws://127.0.0.1:{worker.port}/ws/chat/{visitor.room}/?site_key={site.key}"
        async with websockets.connect(url, origin=site.origin) as client:
            await client.send(json.dumps({"type": "auth", "token": visitor.token}))
            assert json.loads(await client.recv())["type"] == "ready"
            frames = []
            with contextlib.suppress(websockets.ConnectionClosed):
                for _ in range(200):
                    await client.send('{"type": "ping"}')
            with contextlib.suppress(websockets.ConnectionClosed):
                async for raw in client:
                    frames.append(json.loads(raw))
            return frames, client.close_code

    frames, code = asyncio.run(asyncio.wait_for(flood(), timeout=30))
    refused = [frame for frame in frames if frame["type"] == "error"]
    assert code == 4429
    assert refused
    assert all(frame["code"] == "rate_limited" for frame in refused)
    assert all(frame["retry_after"] >= 1 for frame in refused)
    assert sum(frame["type"] == "pong" for frame in frames) == 30  # the burst, then refusals


def test_the_server_command_bounds_handshakes_and_keeps_given_options():
    parser = ParleyCommandLine().parser
    default = parser.parse_args([*DEFAULT_OPTIONS, "config.asgi:application"])
    assert default.websocket_connect_timeout == 10
    assert (default.ping_interval, default.ping_timeout) == (20, 30)
    given = parser.parse_args(
        [*DEFAULT_OPTIONS, "--websocket_connect_timeout", "5", "config.asgi:application"]
    )
    assert given.websocket_connect_timeout == 5


def response_read(sock: socket.socket) -> bytes:
    """One HTTP response with a Content-Length, read whole."""
    received = b""
    while b"\r\n\r\n" not in received:
        received += sock.recv(4096)
    head, body = received.split(b"\r\n\r\n", 1)
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        body += sock.recv(4096)
    return head


def test_an_idle_keep_alive_connection_is_closed_after_the_request_timeout(worker):
    request = b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: keep-alive\r\n\r\n"
    with socket.create_connection(("127.0.0.1", worker.port)) as sock:
        sock.settimeout(REQUEST_TIMEOUT + 10)
        sock.sendall(request)
        assert response_read(sock).startswith(b"HTTP/1.1 200")
        time.sleep(REQUEST_TIMEOUT / 2)  # idle, but within the timeout: still kept alive
        sock.sendall(request)
        assert response_read(sock).startswith(b"HTTP/1.1 200")
        idle_from = time.monotonic()
        try:
            closed = sock.recv(4096) == b""
        except ConnectionResetError:
            closed = True
        except TimeoutError:
            closed = False
        idle = time.monotonic() - idle_from
    assert closed, f"still open after {idle:.1f} s idle"
    assert REQUEST_TIMEOUT - 0.5 <= idle <= REQUEST_TIMEOUT + 2, idle


def test_an_upgraded_socket_outlives_the_idle_timeout(worker, tenant_a):
    site = make_site(tenant_a)
    visitor = make_visitor(site)

    async def quiet_socket() -> str:
        url = f"ws://127.0.0.1:{worker.port}/ws/chat/{visitor.room}/?site_key={site.key}"
        async with websockets.connect(url, origin=site.origin) as client:
            await client.send(json.dumps({"type": "auth", "token": visitor.token}))
            assert json.loads(await client.recv())["type"] == "ready"
            await asyncio.sleep(REQUEST_TIMEOUT + 1.5)
            await client.send('{"type": "ping"}')
            return json.loads(await client.recv())["type"]

    assert asyncio.run(asyncio.wait_for(quiet_socket(), timeout=30)) == "pong"
