"""Posting a message stores it once per client_id and publishes it to the room and the agents."""

import asyncio

import pytest
from channels.db import database_sync_to_async
from django_tenants.utils import schema_context

from tests.support.sockets import Listener
from widget import events
from widget.fanout.hub import hub
from widget.models import Conversation, Message
from widget.services.messages import message_post

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fresh_sockets")]


async def test_a_message_reaches_the_room_and_the_agents_once(tenant_a):
    room_member, agent = Listener("visitor"), Listener("agent")
    await hub.join(events.room_group(tenant_a.id, 1, "cv_room1"), room_member)
    await hub.join(events.agents_group(tenant_a.id), agent)

    def post_twice():
        with schema_context(tenant_a.schema_name):
            Conversation.objects.filter(room="cv_room1").delete()
            conversation = Conversation.objects.create(room="cv_room1", site_id=1)
            first = message_post(
                tenant_id=tenant_a.id,
                conversation=conversation,
                text="hello",
                author_kind="visitor",
                author_id="v1",
                client_id="c-1",
            )
            again = message_post(
                tenant_id=tenant_a.id,
                conversation=conversation,
                text="hello",
                author_kind="visitor",
                author_id="v1",
                client_id="c-1",
            )
            return first, again, Message.objects.filter(conversation=conversation).count()

    (message, created), (same, created_again), stored = await database_sync_to_async(post_twice)()
    assert created is True
    assert created_again is False
    assert same.id == message.id
    assert stored == 1

    await asyncio.sleep(0.2)
    assert [frame["id"] for frame in room_member.frames] == [message.id]
    assert room_member.frames[0]["text"] == "hello"
    to_agent = [frame for frame in agent.frames if frame["type"] == "message"]
    assert [frame["conversation"] for frame in to_agent] == ["cv_room1"]
    events_seen = [(f["event"], f["conversation"]["id"]) for f in agent.frames[1:]]
    assert events_seen == [("created", "cv_room1")]
