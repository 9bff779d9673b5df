"""The sockets' message writer (widget/writer.py): batches, and what one bad message of a batch
does to the others."""

import asyncio

import pytest
from channels.db import database_sync_to_async
from django_tenants.utils import schema_context

from core.errors import BadRequest
from tests.support.factories import make_site, make_visitor
from widget import writer as writer_module
from widget.models import Conversation, Message
from widget.services.messages import MessagePost
from widget.writer import writer

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fresh_sockets")]


def _posts(site, texts_by_visitor: list[tuple[str, str]]) -> list[MessagePost]:
    """One visitor's message in its own private room per (name, text)."""
    posts = []
    for name, text in texts_by_visitor:
        visitor = make_visitor(site, name=name)
        with schema_context(site.tenant.schema_name):
            conversation = Conversation.objects.get(room=visitor.room)
        posts.append(
            MessagePost(
                conversation=conversation,
                text=text,
                author_kind="visitor",
                author_id=visitor.visitor_id,
                author_name=name,
                client_id=f"{name}-1",
            )
        )
    return posts


async def test_a_message_postgresql_refuses_fails_alone_and_the_rest_of_its_batch_is_stored(
    tenant_a, monkeypatch
):
    """Bypasses frame validation on purpose: the writer itself must survive a row PostgreSQL
    refuses (a NUL character in text), whatever let it through."""
    site = await database_sync_to_async(make_site)(tenant_a)
    posts = await database_sync_to_async(_posts)(
        site,
        [("ada", "hello"), ("bob", "bad\x00text"), ("cy", "fine"), ("di", "also fine")],
    )
    batches = []
    real_post_many = writer_module.message_post_many

    def recording_post_many(**kwargs):
        batches.append(len(kwargs["posts"]))
        return real_post_many(**kwargs)

    monkeypatch.setattr(writer_module, "message_post_many", recording_post_many)
    answers = await asyncio.gather(
        *(
            writer.post(schema_name=tenant_a.schema_name, tenant_id=tenant_a.id, post=post)
            for post in posts
        ),
        return_exceptions=True,
    )

    assert batches[0] == 4  # the four messages were one batch
    refused = answers[1]
    assert isinstance(refused, BadRequest)
    assert refused.code == "bad_request"
    for post, answer in zip([posts[0], *posts[2:]], [answers[0], *answers[2:]], strict=True):
        message, created = answer
        assert created is True
        assert message.text == post.text

    def stored():
        with schema_context(tenant_a.schema_name):
            return sorted(Message.objects.values_list("author_name", "text"))

    assert await database_sync_to_async(stored)() == [
        ("ada", "hello"),
        ("cy", "fine"),
        ("di", "also fine"),
    ]
