"""/metrics of a real worker exposes Parley's series, and they move when clients connect, write
and get refused; what a client chooses (an HTTP method) never adds a series of its own."""

import asyncio

import httpx
import pytest
import websockets

from tests.support.factories import make_site, make_visitor
from tests.support.metrics import SOCKET_SERIES, scrape, value
from tests.support.protocol_client import VisitorClient

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_metrics_expose_the_series_and_move_with_traffic(tenant_a, parley):
    site = make_site(tenant_a)
    visitor = make_visitor(site, name="Grace")
    tenant = str(tenant_a.id)
    before = scrape(parley.url)

    async def session():
        grace = VisitorClient("visitor", site, room=visitor.room, token=visitor.token)
        await grace.connect(parley.port)
        during = await asyncio.to_thread(scrape, parley.url)
        for n in range(3):
            await grace.send_message(f"m{n}", f"hello {n}")
        await grace.wait_acked()
        await grace.wait_seen(grace.acks.values())
        url = f"ws://127.0.0.1:{parley.port}/ws/chat/lobby/?site_key={site.key}"
        with pytest.raises(websockets.InvalidStatus):
            await websockets.connect(url, origin="https://evil.example")
        await grace.stop()
        return during

    during = asyncio.run(asyncio.wait_for(session(), timeout=30))
    after = scrape(parley.url)
    text = httpx.get(f"{parley.url}/metrics", timeout=5).text
    for series in SOCKET_SERIES:
        assert f"# TYPE {series} " in text, series
    assert value(after, "parley_backend_errors_total", backend="database") == 0
    assert value(after, "parley_backend_errors_total", backend="redis") == 0

    assert value(during, "parley_sockets_open", tenant=tenant, kind="chat") == 1
    assert value(after, "parley_sockets_open", tenant=tenant, kind="chat") == 0
    moved = {
        ("parley_frames_in_total", (("kind", "chat"), ("type", "auth"))): 1,
        ("parley_frames_in_total", (("kind", "chat"), ("type", "message"))): 3,
        ("parley_frames_out_total", (("kind", "chat"), ("type", "ready"))): 1,
        ("parley_frames_out_total", (("kind", "chat"), ("type", "ack"))): 3,
        ("parley_frames_out_total", (("kind", "chat"), ("type", "message"))): 3,
        ("parley_handshakes_refused_total", (("reason", "origin_not_allowed"),)): 1,
    }
    for key, delta in moved.items():
        assert after.get(key, 0) - before.get(key, 0) == delta, key
    # One observation per delivered group message (the room's and the agents' groups).
    fanned_out = value(after, "parley_fanout_seconds_count") - value(
        before, "parley_fanout_seconds_count"
    )
    assert fanned_out >= 3
    assert value(after, "parley_fanout_seconds_bucket", le="+Inf") >= fanned_out


def test_invented_http_methods_add_at_most_one_series(parley):
    def http_series() -> set[tuple]:
        return {key for key in scrape(parley.url) if key[0] == "parley_http_requests_total"}

    before = http_series()
    for n in range(100):
        httpx.request(f"FOO{n}", f"{parley.url}/healthz", timeout=30)
    added = http_series() - before
    assert len(added) <= 1, sorted(added)
    assert all(dict(labels)["method"] == "other" for _, labels in added)
