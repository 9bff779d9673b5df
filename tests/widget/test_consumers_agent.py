"""The agent socket against its contract (PROTOCOL.md, Agent socket): session-cookie handshake on
the tenant host, every conversation's frames, agent frames reaching the visitor, presence."""

from dataclasses import replace

import pytest
from channels.db import database_sync_to_async
from django_tenants.utils import schema_context

from tests.support.sockets import agent_joined, agent_socket, expect, joined, of_type
from widget.models import Conversation
from widget.presence import agents_online

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fresh_sockets")]


async def test_a_signed_in_agent_of_the_tenant_host_is_accepted(agent):
    socket = await agent_joined(agent)
    await socket.send_json_to({"type": "ping"})
    assert await socket.receive_json_from(timeout=5) == {"type": "pong"}
    await socket.disconnect()


async def test_the_agent_handshake_is_refused_without_a_session_or_from_elsewhere(agent, tenant_b):
    no_cookie = agent_socket(agent, cookie=False)
    assert (await no_cookie.connect())[0] is False
    cross_site = agent_socket(agent, origin="https://evil.example.net")
    assert (await cross_site.connect())[0] is False

    # A session of tenant alpha presented on beta's host names no user there.
    beta_host = await database_sync_to_async(lambda: tenant_b.domains.get().domain)()
    foreign = agent_socket(replace(agent, host=beta_host))
    assert (await foreign.connect())[0] is False

    unknown_host = agent_socket(replace(agent, host="nobody.localhost"))
    assert (await unknown_host.connect())[0] is False


async def test_the_agent_sees_every_frame_of_the_tenant_and_answers_live(site, visitor, agent):
    agent_ws = await agent_joined(agent)
    visitor_ws = await joined(site, visitor)

    await visitor_ws.send_json_to({"type": "message", "client_id": "v-1", "text": "Help?"})
    message = await expect(agent_ws, of_type("message", text="Help?"))
    assert message["conversation"] == visitor.room
    # The agents' copy draws its author as the dashboard does (accounts.avatars); the room's not.
    assert message["author"]["avatar"] == {"initials": "G", "color": 2}
    own = await expect(visitor_ws, of_type("message", text="Help?"))
    assert own["author"] == {"kind": "visitor", "id": visitor.visitor_id, "name": "Grace"}
    created = await expect(agent_ws, of_type("conversation"))
    assert created["event"] == "created"
    assert created["conversation"]["id"] == visitor.room
    assert created["conversation"]["visitor"] == {"id": visitor.visitor_id, "name": "Grace"}

    await visitor_ws.send_json_to({"type": "typing", "state": True})
    typing = await expect(agent_ws, of_type("typing"))
    assert typing["conversation"] == visitor.room
    assert typing["author"]["kind"] == "visitor"

    # The agent answers: acked to the agent, live to the visitor.
    await agent_ws.send_json_to(
        {"type": "message", "conversation": visitor.room, "client_id": "a-1", "text": "Sure!"}
    )
    ack = await expect(agent_ws, of_type("ack"))
    assert ack["conversation"] == visitor.room
    answer = await expect(visitor_ws, of_type("message", text="Sure!"))
    assert answer["id"] == ack["id"]
    assert answer["author"] == {"kind": "agent", "id": str(agent.user_id), "name": "Ada"}
    updated = await expect(agent_ws, of_type("conversation", event="updated"))
    assert updated["conversation"]["id"] == visitor.room

    await agent_ws.send_json_to({"type": "typing", "conversation": visitor.room, "state": True})
    typing = await expect(visitor_ws, of_type("typing"))
    assert typing["author"]["kind"] == "agent"

    await agent_ws.send_json_to({"type": "read", "conversation": visitor.room, "up_to": ack["id"]})
    read = await expect(visitor_ws, of_type("read"))
    assert read["up_to"] == ack["id"]

    await agent_ws.send_json_to({"type": "history", "conversation": visitor.room, "limit": 10})
    history = await expect(agent_ws, of_type("history"))
    assert [m["text"] for m in history["messages"]] == ["Help?", "Sure!"]
    assert [m["author"]["avatar"] for m in history["messages"]] == [
        {"initials": "G", "color": 2},
        {"initials": "A", "color": 6},
    ]
    assert history["conversation"] == visitor.room

    await agent_ws.send_json_to({"type": "close_conversation", "conversation": visitor.room})
    closed = await expect(agent_ws, of_type("conversation", event="closed"))
    assert closed["conversation"]["status"] == "closed"

    def state():
        with schema_context(site.tenant.schema_name):
            row = Conversation.objects.get(room=visitor.room)
            return row.status, row.agent_read_up_to

    assert await database_sync_to_async(state)() == ("closed", ack["id"])
    await agent_ws.disconnect()
    await visitor_ws.disconnect()


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ({"type": "message", "conversation": "cv_nobody", "client_id": "a", "text": "x"}, None),
        ({"type": "message", "client_id": "a", "text": "x"}, "bad_request"),
        ({"type": "close_conversation", "conversation": "bad room!"}, "bad_request"),
        ({"type": "auth", "token": "x"}, "unknown_type"),
    ],
)
async def test_agent_frames_are_validated(agent, frame, code):
    socket = await agent_joined(agent)
    await socket.send_json_to(frame)
    error = await socket.receive_json_from(timeout=5)
    assert error["type"] == "error"
    assert error["code"] == (code or "bad_request")
    await socket.disconnect()


async def test_presence_says_whether_an_agent_of_the_tenant_is_connected(agent, tenant_a, tenant_b):
    assert agents_online(tenant_a.id) is False
    socket = await agent_joined(agent)
    assert agents_online(tenant_a.id) is True
    assert agents_online(tenant_b.id) is False
    await socket.disconnect()
    assert agents_online(tenant_a.id) is False
