"""Posting a message stores it once per client_id and publishes it to the room and the agents."""

import asyncio

import pytest
from channels.layers import get_channel_layer
from django_tenants.utils import schema_context

from widget import events
from widget.models import Conversation, Message
from widget.services import message_post

pytestmark = pytest.mark.django_db(transaction=True)


async def test_a_message_reaches_the_room_and_the_agents_once(tenant_a):
    from channels.db import database_sync_to_async

    layer = get_channel_layer()
    room_member = await layer.new_channel()
    agent = await layer.new_channel()
    await layer.group_add(events.room_group(tenant_a.id, "cv_room1"), room_member)
    await layer.group_add(events.agents_group(tenant_a.id), agent)

    def post_twice():
        with schema_context(tenant_a.schema_name):
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

    delivered = await layer.receive(room_member)
    assert delivered["frame"]["text"] == "hello"
    assert delivered["frame"]["id"] == message.id
    to_agent = await layer.receive(agent)
    assert to_agent["frame"]["conversation"] == "cv_room1"
    # Published once: nothing more arrives on either channel.
    for channel in (room_member, agent):
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(layer.receive(channel), timeout=0.2)
