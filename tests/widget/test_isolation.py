"""Two tenants, the same room name, interleaved on the same database thread: nothing crosses.

django-tenants keeps the schema on the thread's connection, and every consumer's DB work runs on
one shared thread; each unit of work sets its own schema and puts the previous one back.
"""

import asyncio

import pytest
from channels.db import database_sync_to_async
from django.db import transaction
from django_tenants.utils import schema_context

from tests.support.factories import make_site, make_visitor
from tests.support.sockets import chat_socket, closed_with, expect, joined
from widget.models import Conversation, Message

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fresh_sockets")]

ROOM = "lobby"


def texts_in(tenant, room: str) -> list[str]:
    with schema_context(tenant.schema_name):
        rows = Message.objects.filter(conversation__room=room).order_by("id")
        return list(rows.values_list("text", flat=True))


def clear_room(tenant, room: str) -> None:
    with schema_context(tenant.schema_name):
        Message.objects.filter(conversation__room=room).delete()


async def test_two_tenants_with_the_same_room_share_nothing(tenant_a, tenant_b):
    sites, sockets = {}, {}
    for tenant in (tenant_a, tenant_b):
        await database_sync_to_async(clear_room)(tenant, ROOM)
        site = sites[tenant.slug] = await database_sync_to_async(make_site)(
            tenant, public_rooms=True
        )
        members = [
            await database_sync_to_async(make_visitor)(site, name=f"{tenant.slug}-{n}", room=ROOM)
            for n in range(2)
        ]
        sockets[tenant.slug] = [await joined(site, member) for member in members]

    # Interleaved on the shared database thread: alpha, beta, alpha, beta...
    sends = []
    for n in range(10):
        for slug in ("alpha", "beta"):
            frame = {"type": "message", "client_id": f"{slug}-{n}", "text": f"{slug} says {n}"}
            sends.append(sockets[slug][n % 2].send_json_to(frame))
    await asyncio.gather(*sends)
    for slug in ("alpha", "beta"):
        await sockets[slug][0].send_json_to({"type": "typing", "state": True})

    for slug, other in (("alpha", "beta"), ("beta", "alpha")):
        for socket in sockets[slug]:
            for n in range(10):
                frame = await expect(
                    socket, lambda f, n=n, s=slug: f.get("text") == f"{s} says {n}"
                )
                assert frame["author"]["name"].startswith(slug)
        typing = await expect(sockets[slug][1], lambda f: f["type"] == "typing")
        assert typing["author"]["name"] == f"{slug}-0"
        # Nothing of the other tenant arrived: no message text, no typing author.
        for socket in sockets[slug]:
            leftovers = socket.__dict__.get("stash", [])
            while not await socket.receive_nothing(timeout=0.2):
                leftovers.append(await socket.receive_json_from())
            assert {f["type"] for f in leftovers} <= {"ack", "typing"}
            assert not [f for f in leftovers if other in str(f)]

    assert await database_sync_to_async(texts_in)(tenant_a, ROOM) == sorted(
        [f"alpha says {n}" for n in range(10)], key=lambda t: int(t.split()[-1])
    )
    assert all("alpha" in t for t in await database_sync_to_async(texts_in)(tenant_a, ROOM))
    assert all("beta" in t for t in await database_sync_to_async(texts_in)(tenant_b, ROOM))

    # History asked on one tenant's socket shows only that tenant's rows.
    await sockets["beta"][0].send_json_to({"type": "history", "limit": 100})
    page = await expect(sockets["beta"][0], lambda f: f["type"] == "history")
    assert {m["text"].split()[0] for m in page["messages"]} == {"beta"}

    for members in sockets.values():
        for socket in members:
            await socket.disconnect()


async def test_a_token_of_one_tenant_is_refused_in_the_others_room(tenant_a, tenant_b):
    site_a = await database_sync_to_async(make_site)(tenant_a, public_rooms=True)
    site_b = await database_sync_to_async(make_site)(tenant_b, public_rooms=True)
    visitor_a = await database_sync_to_async(make_visitor)(site_a)
    # Tenant b's room, through tenant b's site key, with tenant a's token.
    socket = chat_socket(site_b, visitor_a.room)
    assert (await socket.connect())[0]
    await socket.send_json_to({"type": "auth", "token": visitor_a.token})
    assert await closed_with(socket) == 4403


def test_a_rolled_back_transaction_leaves_no_other_tenants_schema_behind(tenant_a, tenant_b):
    """`TENANT_LIMIT_SET_CALLS`: the schema is set once per switch. PostgreSQL reverts a `SET
    search_path` issued inside a transaction that rolls back, here to tenant b's schema, set by
    the unit before; the next query of the unit (the message writer retries this way after an
    IntegrityError) must still read tenant a's rows."""
    for tenant in (tenant_a, tenant_b):
        with schema_context(tenant.schema_name):
            Conversation.objects.create(site_id=1, room=f"only-{tenant.slug}")
    with schema_context(tenant_b.schema_name):
        assert Conversation.objects.filter(room="only-beta").exists()  # b's path is set

    def read_then_roll_back() -> None:
        with transaction.atomic():
            assert Conversation.objects.filter(room="only-alpha").exists()  # a's path, in it
            raise RuntimeError("rolled back")

    with schema_context(tenant_a.schema_name):
        with pytest.raises(RuntimeError):
            read_then_roll_back()
        assert list(Conversation.objects.values_list("room", flat=True)) == ["only-alpha"]
