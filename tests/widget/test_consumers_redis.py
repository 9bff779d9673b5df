"""The chat socket on the Redis fan-out, in process: frames published by another worker arrive,
presence is shared through Redis, and losing Redis closes the sockets (1011) instead of letting
them miss frames silently."""

import asyncio

import pytest
from channels.db import database_sync_to_async

from tests.support.factories import make_agent, make_site, make_visitor
from tests.support.redis import RedisServer
from tests.support.sockets import agent_joined, closed_with, expect, joined
from widget import events, presence
from widget.fanout.envelope import FRAME, Envelope
from widget.fanout.hub import Hub
from widget.fanout.transport import REDIS_PREFIX

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fresh_sockets")]


@pytest.fixture
def redis_fanout(settings):
    """The Redis fan-out on a Redis server of this test alone (the test may kill it)."""
    server = RedisServer()
    settings.PARLEY_FANOUT = "redis"
    settings.REDIS_URL = server.url
    yield server
    server.stop()


@pytest.fixture
def site(tenant_a):
    return make_site(tenant_a)


async def subscribed(server: RedisServer, group: str) -> None:
    """Wait until this process's subscription to the group has reached Redis."""
    client = server.client()
    async with asyncio.timeout(5):
        while (await asyncio.to_thread(client.pubsub_numsub, REDIS_PREFIX + group))[0][1] == 0:
            await asyncio.sleep(0.02)


async def test_a_frame_published_by_another_worker_reaches_the_socket(redis_fanout, site):
    visitor = await database_sync_to_async(make_visitor)(site)
    socket = await joined(site, visitor)
    group = events.room_group(site.tenant.id, site.site.id, visitor.room)
    await subscribed(redis_fanout, group)

    other_worker = Hub()  # another process's hub: its own origin, publishing through Redis
    other_worker.transport.publish_sync(
        Envelope(group, FRAME, '{"type":"typing","state":true}', exclude="")
    )
    assert await expect(socket, lambda f: f["type"] == "typing") == {
        "type": "typing",
        "state": True,
    }
    await socket.disconnect()


async def test_agent_presence_is_shared_through_redis(redis_fanout, tenant_a):
    agent = await database_sync_to_async(make_agent)(tenant_a)
    socket = await agent_joined(agent)
    vouched = await asyncio.to_thread(redis_fanout.client().hvals, f"parley:agents:t{tenant_a.id}")
    assert len(vouched) == 1
    # Another worker, with no agent socket of its own, asks Redis: who, and is anyone there.
    member = (tenant_a.id, str(agent.user_id))
    counted_here = presence._local.pop(member), presence._local_tenants.pop(tenant_a.id)
    try:
        assert await asyncio.to_thread(presence.agents_online, tenant_a.id) is True
        assert await asyncio.to_thread(presence.agents_online_ids, tenant_a.id) == {agent.user_id}
    finally:
        presence._local[member], presence._local_tenants[tenant_a.id] = counted_here
    await socket.disconnect()
    await asyncio.sleep(0.1)
    assert await asyncio.to_thread(presence.agents_online, tenant_a.id) is False
    assert await asyncio.to_thread(presence.agents_online_ids, tenant_a.id) == set()


async def test_losing_redis_closes_the_sockets_1011(redis_fanout, site, caplog):
    visitor = await database_sync_to_async(make_visitor)(site)
    socket = await joined(site, visitor)
    await subscribed(redis_fanout, events.room_group(site.tenant.id, site.site.id, visitor.room))
    redis_fanout.kill()
    assert await closed_with(socket) == 1011
    # An outage is one line: a rendered traceback would hold the event loop (seconds on a busy
    # machine) while sockets wait for their close and requests for an answer.
    async with asyncio.timeout(5):  # logged once every socket has its close
        while not (lost := [r for r in caplog.records if "lost the Redis subscription" in r.msg]):
            await asyncio.sleep(0.02)
    assert all(record.exc_info is None for record in lost)
