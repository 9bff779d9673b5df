"""Private notes (`Message.private`): written by agents for the team, never sent to the visitor:
not over the room's fan-out, not in `ready` (fresh or resumed) nor `history`, marked `private`
for the agents, over the site-key API and in webhooks."""

import pytest
from channels.db import database_sync_to_async
from django_tenants.utils import schema_context

from tests.support.sockets import agent_joined, expect, joined, of_type
from widget.models import Message

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fresh_sockets")]


async def test_a_note_reaches_the_agents_and_never_the_visitor(site, visitor, agent):
    agent_ws = await agent_joined(agent)
    other_agent_ws = await agent_joined(agent)
    visitor_ws = await joined(site, visitor)
    seen_by_visitor: list[dict] = []

    await visitor_ws.send_json_to({"type": "message", "client_id": "v-1", "text": "Refund?"})
    await expect(visitor_ws, lambda frame: seen_by_visitor.append(frame) or frame.get("id"))
    await agent_ws.send_json_to(
        {
            "type": "message",
            "conversation": visitor.room,
            "client_id": "note-1",
            "text": "Order 1182 was refunded already",
            "private": True,
        }
    )
    ack = await expect(agent_ws, of_type("ack", client_id="note-1"))
    note = await expect(other_agent_ws, of_type("message", client_id="note-1"))
    assert note["private"] is True
    assert note["conversation"] == visitor.room
    # The agent's next reply is public: the visitor's socket gets it, and nothing before it.
    await agent_ws.send_json_to(
        {"type": "message", "conversation": visitor.room, "client_id": "a-1", "text": "Done!"}
    )
    reply = await expect(other_agent_ws, of_type("message", client_id="a-1"))
    assert "private" not in reply
    await expect(
        visitor_ws, lambda frame: seen_by_visitor.append(frame) or frame.get("text") == "Done!"
    )
    assert all(frame.get("client_id") != "note-1" for frame in seen_by_visitor)
    assert all("refunded" not in str(frame) for frame in seen_by_visitor)

    # A fresh page, a resume from before the note, and the visitor's history: no note.
    fresh = await joined(site, visitor)
    assert [m["text"] for m in fresh.ready["messages"]] == ["Refund?", "Done!"]
    resumed = await joined(site, visitor, since=ack["id"] - 1)
    assert [m["text"] for m in resumed.ready["messages"]] == ["Refund?", "Done!"]
    await fresh.send_json_to({"type": "history", "limit": 50})
    history = await expect(fresh, of_type("history"))
    assert [m["text"] for m in history["messages"]] == ["Refund?", "Done!"]

    # The agents' history has it, marked.
    await agent_ws.send_json_to({"type": "history", "conversation": visitor.room, "limit": 50})
    history = await expect(agent_ws, of_type("history"))
    assert [(m["text"], m.get("private", False)) for m in history["messages"]] == [
        ("Refund?", False),
        ("Order 1182 was refunded already", True),
        ("Done!", False),
    ]

    def stored():
        with schema_context(site.tenant.schema_name):
            return Message.objects.get(client_id="note-1").private

    assert await database_sync_to_async(stored)() is True
    for socket in (agent_ws, other_agent_ws, visitor_ws, fresh, resumed):
        await socket.disconnect()


async def test_a_visitor_cannot_write_a_note(site, visitor):
    visitor_ws = await joined(site, visitor)
    await visitor_ws.send_json_to(
        {"type": "message", "client_id": "v-1", "text": "Sneaky", "private": True}
    )
    echo = await expect(visitor_ws, of_type("message", client_id="v-1"))
    assert "private" not in echo

    def stored():
        with schema_context(site.tenant.schema_name):
            return Message.objects.get(client_id="v-1").private

    assert await database_sync_to_async(stored)() is False
    await visitor_ws.disconnect()
