"""Agent presence as visitors are told it (PROTOCOL.md, Status): online while a connected member
is not away, away while only away members are connected, offline with nobody; every change
reaches the tenant's visitor sockets as a `presence` frame, and round-robin passes away members
by. Real agent and chat sockets, the away switch through its service."""

import pytest
from channels.db import database_sync_to_async
from django_tenants.utils import schema_context

from accounts.models import User
from accounts.services import member_away_set
from tenants.models import Site
from tests.support.factories import make_agent, make_visitor
from tests.support.sockets import agent_joined, expect, joined, of_type
from widget.availability import agents_state
from widget.models import Conversation

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fresh_sockets")]


@database_sync_to_async
def set_away(tenant, agent, away: bool) -> None:
    with schema_context(tenant.schema_name):
        member = User.objects.get(pk=agent.user_id)
        member_away_set(tenant=tenant, member=member, away=away)


@database_sync_to_async
def state_of(tenant) -> str:
    with schema_context(tenant.schema_name):
        return agents_state(tenant_id=tenant.id)


async def test_visitors_are_told_online_away_and_offline_live(site, visitor, agent, tenant_a):
    visitor_ws = await joined(site, visitor)
    assert visitor_ws.ready["availability"]["agents"] == "offline"

    agent_ws = await agent_joined(agent)
    assert (await expect(visitor_ws, of_type("presence")))["agents"] == "online"
    assert await state_of(tenant_a) == "online"

    await set_away(tenant_a, agent, True)
    assert (await expect(visitor_ws, of_type("presence")))["agents"] == "away"
    assert await state_of(tenant_a) == "away"

    # A second member, available: online again although the first is still away.
    bob = await database_sync_to_async(make_agent)(tenant_a)
    bob_ws = await agent_joined(bob)
    assert (await expect(visitor_ws, of_type("presence")))["agents"] == "online"
    await bob_ws.disconnect()
    assert (await expect(visitor_ws, of_type("presence")))["agents"] == "away"

    await set_away(tenant_a, agent, False)
    assert (await expect(visitor_ws, of_type("presence")))["agents"] == "online"
    await agent_ws.disconnect()
    assert (await expect(visitor_ws, of_type("presence")))["agents"] == "offline"
    await visitor_ws.disconnect()


async def test_a_new_socket_reads_the_state_in_ready(site, visitor, agent, tenant_a):
    agent_ws = await agent_joined(agent)
    await set_away(tenant_a, agent, True)
    visitor_ws = await joined(site, visitor)
    assert visitor_ws.ready["availability"]["agents"] == "away"
    await visitor_ws.disconnect()
    await agent_ws.disconnect()


async def test_another_tenants_visitors_hear_nothing(site, agent, tenant_b):
    other = await database_sync_to_async(make_agent)(tenant_b)
    visitor = await database_sync_to_async(make_visitor)(site, name="Uma")
    visitor_ws = await joined(site, visitor)
    other_ws = await agent_joined(other)
    assert await visitor_ws.receive_nothing(timeout=0.5)
    await other_ws.disconnect()
    await visitor_ws.disconnect()


async def test_round_robin_passes_away_members_by(site, tenant_a):
    await database_sync_to_async(
        lambda: Site.objects.filter(pk=site.site.pk).update(auto_assign=True)
    )()
    ada = await database_sync_to_async(make_agent)(tenant_a)
    bob = await database_sync_to_async(make_agent)(tenant_a)
    ada_ws, bob_ws = await agent_joined(ada), await agent_joined(bob)
    await set_away(tenant_a, bob, True)

    for name in ("Ines", "Jon", "Kim"):
        visitor = await database_sync_to_async(make_visitor)(site, name=name)
        socket = await joined(site, visitor)
        await socket.send_json_to({"type": "message", "client_id": f"{name}-1", "text": "Hi"})
        created = await expect(
            ada_ws,
            lambda f, room=visitor.room: (
                f["type"] == "conversation" and f["conversation"]["id"] == room
            ),
        )
        assert created["conversation"]["assignee"] == ada.user_id
        await socket.disconnect()

    await set_away(tenant_a, ada, True)  # everybody away: nobody is given the next one
    visitor = await database_sync_to_async(make_visitor)(site, name="Lea")
    socket = await joined(site, visitor)
    await socket.send_json_to({"type": "message", "client_id": "lea-1", "text": "Hi"})
    await expect(socket, of_type("ack"))

    @database_sync_to_async
    def assignee():
        with schema_context(tenant_a.schema_name):
            return Conversation.objects.get(room=visitor.room).assignee_id

    assert await assignee() is None
    await socket.disconnect()
    await ada_ws.disconnect()
    await bob_ws.disconnect()
