"""Round-robin assignment (`Site.auto_assign`): a conversation's first visitor message goes to
the online agent given one longest ago; agents who leave stop receiving; with nobody online, or
on a site that does not assign, conversations stay unassigned. Real agent and chat sockets."""

import pytest
from channels.db import database_sync_to_async
from django_tenants.utils import schema_context

from tenants.models import Site
from tests.support.factories import make_agent, make_visitor
from tests.support.sockets import agent_joined, expect, joined, of_type
from widget.models import Conversation

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fresh_sockets")]


@database_sync_to_async
def assign_in_turn(site, on: bool = True) -> None:
    Site.objects.filter(pk=site.site.pk).update(auto_assign=on)


@database_sync_to_async
def assignee_of(site, room: str) -> int | None:
    with schema_context(site.tenant.schema_name):
        return Conversation.objects.get(room=room).assignee_id


async def first_message(site, watcher, name: str, text: str = "Hello?") -> tuple[str, int | None]:
    """A new visitor's first message; the assignee the agents' `conversation` frame names."""
    visitor = await database_sync_to_async(make_visitor)(site, name=name)
    socket = await joined(site, visitor)
    await socket.send_json_to({"type": "message", "client_id": f"{name}-1", "text": text})
    created = await expect(
        watcher, lambda f: f["type"] == "conversation" and f["conversation"]["id"] == visitor.room
    )
    assert created["event"] == "created"
    await socket.disconnect()
    return visitor.room, created["conversation"]["assignee"]


async def test_new_conversations_go_to_online_agents_in_turn(site, tenant_a):
    await assign_in_turn(site)
    ada = await database_sync_to_async(make_agent)(tenant_a)
    bob = await database_sync_to_async(make_agent)(tenant_a)
    ada_ws, bob_ws = await agent_joined(ada), await agent_joined(bob)

    given = [await first_message(site, ada_ws, name) for name in ("Ines", "Jon", "Kim", "Lea")]
    assignees = [assignee for _room, assignee in given]
    assert sorted(assignees[:2]) == sorted([ada.user_id, bob.user_id])  # one each
    assert assignees[2:] == assignees[:2]  # then the same order again
    for room, assignee in given:
        assert await assignee_of(site, room) == assignee  # stored, not only told

    # Bob signs out: new conversations go to Ada alone.
    await bob_ws.disconnect()
    later = [await first_message(site, ada_ws, name) for name in ("Max", "Noa")]
    assert [assignee for _room, assignee in later] == [ada.user_id, ada.user_id]
    await ada_ws.disconnect()


async def test_with_nobody_online_or_the_setting_off_conversations_stay_unassigned(site, tenant_a):
    await assign_in_turn(site, on=False)
    ada = await database_sync_to_async(make_agent)(tenant_a)
    ada_ws = await agent_joined(ada)
    room, assignee = await first_message(site, ada_ws, "Olga")
    assert assignee is None
    assert await assignee_of(site, room) is None
    await ada_ws.disconnect()

    await assign_in_turn(site)
    visitor = await database_sync_to_async(make_visitor)(site, name="Pia")
    socket = await joined(site, visitor)
    await socket.send_json_to({"type": "message", "client_id": "p-1", "text": "Anyone?"})
    await expect(socket, of_type("ack"))
    assert await assignee_of(site, visitor.room) is None
    await socket.disconnect()
