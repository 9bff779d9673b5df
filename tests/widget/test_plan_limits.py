"""The plan's limits through the real chat socket (docs/billing.md, Enforcement): concurrent
visitor sockets (close 4402 after auth) and monthly messages (`error` frame `plan_limit`).

The tenants are on the free plan (20 concurrent visitors, 1,000 messages a month); a month
already used up is set up as the billing tables record it, through `MonthlyUsage`.
"""

import asyncio

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone
from django_tenants.utils import schema_context

from tenants.billing.limits import flush_usage, usage_summary
from tenants.billing.models import MonthlyUsage
from tenants.billing.plans import FREE
from tenants.billing.usage import month_of
from tests.support.factories import make_agent, make_site, make_visitor
from tests.support.sockets import (
    agent_joined,
    chat_socket,
    closed_with,
    expect,
    joined,
)
from widget.fanout.hub import hub
from widget.models import Message

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fresh_sockets")]


@pytest.fixture
def site(tenant_a):
    return make_site(tenant_a)


@database_sync_to_async
def visitors(site, count: int):
    return [make_visitor(site) for _ in range(count)]


@database_sync_to_async
def connected_now(tenant) -> int:
    """What the billing page shows as the tenant's visitors connected now."""
    usage = {entry.name: entry.used for entry in usage_summary(tenant, members=0).usage}
    return usage["Visitors connected now"]


@database_sync_to_async
def month_used_up_but(tenant, left: int) -> None:
    MonthlyUsage.objects.create(
        tenant=tenant, month=month_of(timezone.now()), messages=FREE.messages_per_month - left
    )


@database_sync_to_async
def stored_texts(site) -> list[str]:
    with schema_context(site.tenant.schema_name):
        return list(Message.objects.order_by("id").values_list("text", flat=True))


# --- concurrent visitor sockets ---------------------------------------------------------------


async def test_a_visitor_socket_past_the_plan_is_closed_4402_after_auth(site, tenant_a):
    members = await visitors(site, FREE.concurrent_connections + 1)
    sockets = [await joined(site, member) for member in members[:-1]]
    assert await connected_now(tenant_a) == FREE.concurrent_connections

    one_too_many = chat_socket(site, members[-1].room)
    connected, _ = await one_too_many.connect()
    assert connected  # accepted, so that the widget can read the close code
    await one_too_many.send_json_to({"type": "auth", "token": members[-1].token})
    assert await closed_with(one_too_many) == 4402
    assert await connected_now(tenant_a) == FREE.concurrent_connections

    # An agent's socket is not a visitor's: it connects whatever the count.
    agent = await agent_joined(await database_sync_to_async(make_agent)(tenant_a))
    await agent.disconnect()

    # A visitor leaving frees a place for the next one.
    await sockets.pop().disconnect()
    sockets.append(await joined(site, members[-1]))
    for socket in sockets:
        await socket.disconnect()
    assert await connected_now(tenant_a) == 0


async def test_another_tenants_visitors_do_not_take_this_tenants_places(site, tenant_b):
    members = await visitors(site, FREE.concurrent_connections)
    sockets = [await joined(site, member) for member in members]
    other = await database_sync_to_async(make_site)(tenant_b)
    sockets.append(await joined(other, (await visitors(other, 1))[0]))
    for socket in sockets:
        await socket.disconnect()


async def test_every_way_a_socket_ends_gives_its_place_back(site, tenant_a, monkeypatch):
    members = await visitors(site, 5)
    # The client closes.
    socket = await joined(site, members[0])
    assert await connected_now(tenant_a) == 1
    await socket.disconnect()
    assert await connected_now(tenant_a) == 0

    # The server drains its sockets before a restart (1012).
    drained = [await joined(site, member) for member in members[1:3]]
    assert await connected_now(tenant_a) == 2
    await hub.close_all(1012)
    for socket in drained:
        assert await closed_with(socket) == 1012
    assert await connected_now(tenant_a) == 0

    # A protocol violation after auth (4400).
    socket = await joined(site, members[3])
    await socket.send_to(text_data="not json")
    assert await closed_with(socket) == 4400
    assert await connected_now(tenant_a) == 0

    # A server error (1011).
    def crash(**kwargs):
        raise RuntimeError("database on fire")

    monkeypatch.setattr("widget.writer.message_post_many", crash)
    socket = await joined(site, members[4])
    await socket.send_json_to({"type": "message", "client_id": "c", "text": "hi"})
    assert await closed_with(socket) == 1011
    assert await connected_now(tenant_a) == 0

    # Sockets that never authenticated never held a place (a bad token, no auth at all).
    socket = chat_socket(site, members[0].room)
    await socket.connect()
    await socket.send_json_to({"type": "auth", "token": "garbage"})
    assert await closed_with(socket) == 4401
    assert await connected_now(tenant_a) == 0


# --- monthly messages -------------------------------------------------------------------------


async def test_a_message_past_the_month_is_refused_not_stored_and_the_socket_stays(site, tenant_a):
    await month_used_up_but(tenant_a, left=1)
    visitor = (await visitors(site, 1))[0]
    socket = await joined(site, visitor)
    agent = await agent_joined(await database_sync_to_async(make_agent)(tenant_a))

    await socket.send_json_to({"type": "message", "client_id": "last", "text": "the last one"})
    assert (await expect(socket, lambda f: f["type"] == "ack"))["client_id"] == "last"
    await socket.send_json_to({"type": "message", "client_id": "over", "text": "one too many"})
    refused = await expect(socket, lambda f: f["type"] == "error")
    assert refused["code"] == "plan_limit"
    assert refused["client_id"] == "over"
    assert "1,000 messages a month" in refused["message"]

    # The socket stays open, and a resend of a stored message is acknowledged, not refused.
    await socket.send_json_to({"type": "ping"})
    assert (await expect(socket, lambda f: f["type"] == "pong")) == {"type": "pong"}
    await socket.send_json_to({"type": "message", "client_id": "last", "text": "the last one"})
    assert (await expect(socket, lambda f: f["type"] == "ack"))["client_id"] == "last"

    assert await stored_texts(site) == ["the last one"]
    delivered = await expect(agent, lambda f: f["type"] == "message")
    assert delivered["text"] == "the last one"
    while not await agent.receive_nothing(timeout=0.3):
        agent.stash.append(await agent.receive_json_from())
    assert not [frame for frame in agent.stash if frame["type"] == "message"]
    # What was counted is what was stored: the month is exactly used up.
    assert await database_sync_to_async(flush_usage)() == 1
    month = await database_sync_to_async(MonthlyUsage.objects.get)(tenant=tenant_a)
    assert month.messages == FREE.messages_per_month
    for open_socket in (socket, agent):
        await open_socket.disconnect()


async def test_agents_messages_count_and_are_refused_past_the_month(site, tenant_a):
    await month_used_up_but(tenant_a, left=0)
    visitor = (await visitors(site, 1))[0]
    agent = await agent_joined(await database_sync_to_async(make_agent)(tenant_a))
    await agent.send_json_to(
        {"type": "message", "conversation": visitor.room, "client_id": "a1", "text": "hello"}
    )
    refused = await expect(agent, lambda f: f["type"] == "error")
    assert refused["code"] == "plan_limit"
    assert await stored_texts(site) == []
    await agent.disconnect()


async def test_a_refused_message_does_not_fail_the_others_stored_with_it(site, tenant_a):
    await month_used_up_but(tenant_a, left=1)
    first, second = [await joined(site, member) for member in await visitors(site, 2)]
    # Sent together, the two are written in one batch: one fits, the other is refused alone.
    await asyncio.gather(
        first.send_json_to({"type": "message", "client_id": "f", "text": "from first"}),
        second.send_json_to({"type": "message", "client_id": "s", "text": "from second"}),
    )

    def answer(frame: dict) -> bool:
        return frame["type"] in ("ack", "error")

    answers = [await expect(first, answer), await expect(second, answer)]
    assert sorted(frame["type"] for frame in answers) == ["ack", "error"]
    assert next(f for f in answers if f["type"] == "error")["code"] == "plan_limit"
    assert len(await stored_texts(site)) == 1
    await first.disconnect()
    await second.disconnect()
