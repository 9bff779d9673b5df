"""Production shape: Debian's nginx (infra/nginx/parley.conf.template) in front of two daphne
workers on one Redis and one PostgreSQL. 200 visitors in one public room, spread over both
workers, each see every message exactly once; a worker stopped mid-stream (SIGTERM: it drains
with 1012) and then one killed (SIGKILL: its sockets just drop) lose nothing: their clients
reconnect through nginx to the survivor, resume with `since` and resend what was not
acknowledged."""

import asyncio
import resource
import signal
import uuid
from collections import Counter

import httpx
import pytest
from django.db import connection
from django_tenants.utils import schema_context

from config.embedded import database_url
from tenants.tokens import token_issue
from tests.support.factories import make_site
from tests.support.metrics import scrape, value
from tests.support.nginx import Nginx, render_server_config, write_main_config
from tests.support.processes import Daphne, free_port, parley_environment
from tests.support.protocol_client import VisitorClient
from widget.models import Conversation, Message, Visitor

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

CLIENTS = 200
PUBLISHERS = 4  # of the clients, the ones that write
MESSAGES = 20  # per publisher and phase
ROOM = "lobby"


def raise_open_files_limit(needed: int) -> None:
    """For this process, and the nginx and workers it starts (they inherit it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(needed, hard), hard))


def visitor_tokens(site, count: int) -> list[str]:
    with schema_context(site.tenant.schema_name):
        visitors = Visitor.objects.bulk_create(
            [Visitor(site_id=site.site.id) for _ in range(count)]
        )
        Conversation.objects.create(site_id=site.site.id, room=ROOM, kind=Conversation.Kind.PUBLIC)
    return [
        token_issue(
            tenant_id=site.tenant.id,
            site_id=site.site.id,
            visitor_id=str(visitor.id),
            conversation=f"cv_{uuid.uuid4().hex[:20]}",
        )[0]
        for visitor in visitors
    ]


def stored_ids(schema_name: str) -> list[int]:
    """Read from a helper thread: its connection is closed after, so none is left open."""
    try:
        with schema_context(schema_name):
            rows = Message.objects.filter(conversation__room=ROOM).order_by("id")
            return list(rows.values_list("id", flat=True))
    finally:
        connection.close()


def sockets_on(worker: Daphne, tenant_id: int) -> float:
    return value(scrape(worker.url), "parley_sockets_open", tenant=str(tenant_id), kind="chat")


@pytest.fixture
def stack(redis_url, tmp_path, tenant_a, on_plan, settings):
    """Two workers and nginx's port; the workers' ports stay fixed so one can be restarted."""
    raise_open_files_limit(8 * CLIENTS + 512)
    on_plan(tenant_a, "business")  # 5,000 concurrent visitors
    environment = parley_environment(
        STRIPE_SECRET_KEY=settings.STRIPE_SECRET_KEY,  # billing on: the tenant's plan applies
        REDIS_URL=redis_url,
        PARLEY_FANOUT="redis",
        DATABASE_URL=database_url(connection.settings_dict),
        # A few clients publish fast: lift the per-socket and per-visitor frame limits.
        PARLEY_WS_FRAME_RATE="1000",
        PARLEY_WS_FRAME_BURST="1000",
        PARLEY_WS_VISITOR_FRAME_RATE="1000",
        PARLEY_WS_VISITOR_FRAME_BURST="1000",
        PARLEY_DRAIN_SECONDS="10",
    )
    workers = [Daphne(environment=environment, port=free_port()) for _ in range(2)]
    listen = free_port()
    server = render_server_config(
        platform_host="localhost",
        upstreams=[f"127.0.0.1:{worker.port}" for worker in workers],
        listen=f"127.0.0.1:{listen}",
    )
    config = write_main_config(tmp_path / "nginx", server)
    try:
        for worker in workers:
            worker.start()
        with Nginx(config):
            yield workers, listen
    finally:
        for worker in workers:
            worker.stop()


def test_200_clients_through_nginx_survive_a_drained_and_a_killed_worker(tenant_a, stack):
    workers, nginx_port = stack
    site = make_site(tenant_a, public_rooms=True)
    tokens = visitor_tokens(site, CLIENTS)

    async def phase(clients, publishers, name: str, interrupt) -> list[int]:
        """Publishers write while `interrupt` runs a third of the way in; returns stored ids."""

        async def publish(index: int, client: VisitorClient) -> None:
            for n in range(MESSAGES):
                await client.send_message(f"{name}-{index}-{n}", f"{name} {index} {n}")
                await asyncio.sleep(0.03)

        writing = [asyncio.create_task(publish(i, c)) for i, c in enumerate(publishers)]
        await asyncio.sleep(MESSAGES * 0.03 / 3)
        await interrupt()
        await asyncio.gather(*writing)
        await asyncio.gather(*(client.wait_acked(timeout=30) for client in publishers))
        ids = await asyncio.to_thread(stored_ids, tenant_a.schema_name)
        await asyncio.gather(*(client.wait_seen(ids, timeout=30) for client in clients))
        return ids

    async def scenario():
        clients = [
            VisitorClient(f"c{i}", site, room=ROOM, token=token, port=nginx_port)
            for i, token in enumerate(tokens)
        ]
        for client in clients:
            client.start()
        await asyncio.gather(*(client.wait_ready() for client in clients))
        publishers = clients[:PUBLISHERS]
        first, second = workers
        spread = [await asyncio.to_thread(sockets_on, w, tenant_a.id) for w in workers]

        async def nothing():
            pass

        await phase(clients, publishers, "calm", nothing)

        async def drain_first():
            first.process.send_signal(signal.SIGTERM)

        await phase(clients, publishers, "drain", drain_first)
        assert await asyncio.to_thread(first.process.wait, 20) == 0  # drained, then exited
        async with asyncio.timeout(10):  # its clients have read the close and come back
            while sum(client.connections for client in clients) < CLIENTS + spread[0]:
                await asyncio.sleep(0.05)
        await asyncio.gather(*(client.wait_ready() for client in clients))
        drained = Counter(code for client in clients for code in client.close_codes)

        # The drained worker comes back (a deploy); then the other one dies.
        await asyncio.to_thread(first.start)

        async def kill_second():
            second.process.send_signal(signal.SIGKILL)

        before_kill = [client.connections for client in clients]
        ids = await phase(clients, publishers, "kill", kill_second)
        moved_on_kill = sum(
            client.connections > count for client, count in zip(clients, before_kill, strict=True)
        )
        for client in clients:
            await client.stop()
        return clients, spread, drained, moved_on_kill, ids

    clients, spread, drained, moved_on_kill, ids = asyncio.run(
        asyncio.wait_for(scenario(), timeout=90)
    )

    # nginx spread the sockets over both workers.
    assert sum(spread) == CLIENTS
    assert min(spread) > CLIENTS / 4, spread
    # Every client of the drained worker was told 1012, and moved.
    assert drained == {1012: spread[0]}, drained
    assert moved_on_kill == CLIENTS  # then every client was on the killed worker, and moved
    # Every message written is stored once and acknowledged, and seen once by every client.
    assert len(ids) == 3 * PUBLISHERS * MESSAGES
    acked = {i for client in clients[:PUBLISHERS] for i in client.acks.values()}
    assert acked == set(ids)
    for client in clients:
        assert set(client.seen) == set(ids), client.name
        assert max(client.seen.values()) == 1, f"{client.name} saw a message twice"


def test_nginx_hides_metrics_and_the_worker_serves_them_with_the_token_only(tmp_path):
    token = f"mt_{uuid.uuid4().hex}"
    environment = parley_environment(
        DATABASE_URL=database_url(connection.settings_dict), PARLEY_METRICS_TOKEN=token
    )
    environment.pop("REDIS_URL", None)
    listen = free_port()
    with Daphne(environment=environment) as worker:
        server = render_server_config(
            platform_host="localhost",
            upstreams=[f"127.0.0.1:{worker.port}"],
            listen=f"127.0.0.1:{listen}",
        )
        with Nginx(write_main_config(tmp_path / "nginx", server)):
            through_nginx = httpx.Client(
                base_url=f"http://127.0.0.1:{listen}", headers={"Host": "localhost"}
            )
            outside = through_nginx.get("/metrics", headers={"Authorization": f"Bearer {token}"})
            ready = through_nginx.get("/readyz")
        unauthorized = httpx.get(f"{worker.url}/metrics")
        scraped = httpx.get(f"{worker.url}/metrics", headers={"Authorization": f"Bearer {token}"})
    assert outside.status_code == 404
    assert b"parley_" not in outside.content
    assert ready.status_code == 200
    assert unauthorized.status_code == 401  # loopback is not enough once a token is set
    assert scraped.status_code == 200
    assert b"parley_http_requests_total" in scraped.content
