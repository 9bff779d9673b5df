"""The chat socket against its contract (PROTOCOL.md, Chat socket): handshake, every frame, every
error frame and every close code, through Channels' WebsocketCommunicator."""

import asyncio
import json
from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.utils import timezone
from django_tenants.utils import schema_context

from tenants.services import site_delete, site_revoke_keys, site_rotate_key
from tests.support.api_clients import PlatformClient, error_code
from tests.support.factories import ORIGIN, make_site, make_visitor
from tests.support.sockets import (
    application,
    chat_socket,
    closed_with,
    expect,
    joined,
)
from widget.fanout.hub import hub
from widget.models import Conversation, Message
from widget.services.messages import message_post

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fresh_sockets")]


@pytest.fixture
def site(tenant_a):
    return make_site(tenant_a, public_rooms=True)


@pytest.fixture
def ws_settings(settings):
    """Change socket settings for one test: ws_settings(IDLE_TIMEOUT=0.3)."""

    def change(**values):
        settings.PARLEY_WS = {**settings.PARLEY_WS, **values}

    return change


def post(site, room: str, text: str, *, client_id: str | None = None) -> int:
    with schema_context(site.tenant.schema_name):
        conversation = Conversation.objects.get(site_id=site.site.id, room=room)
        message, _ = message_post(
            tenant_id=site.tenant.id,
            conversation=conversation,
            text=text,
            author_kind="agent",
            author_id="1",
            author_name="Ada",
            client_id=client_id,
        )
    return message.id


async def send_message(socket, text: str, client_id: str) -> tuple[dict, dict]:
    """Send a message; return the ack and the broadcast message frame (order not promised)."""
    frame = {"type": "message", "client_id": client_id, "text": text}
    await socket.send_to(text_data=json.dumps(frame, ensure_ascii=False))
    ack = await expect(socket, lambda f: f["type"] == "ack")
    broadcast = await expect(socket, lambda f: f["type"] == "message" and f["id"] == ack["id"])
    return ack, broadcast


# --- handshake --------------------------------------------------------------------------------


async def test_a_live_key_from_an_allowed_origin_is_accepted(site, visitor):
    socket = await joined(site, visitor)
    assert socket.ready["room"] == visitor.room
    assert socket.ready["visitor_id"] == visitor.visitor_id
    await socket.disconnect()


@pytest.mark.parametrize(
    ("query", "origin"),
    [
        ("?site_key=pk_unknown_key_0000000000000", ORIGIN),
        ("?site_key={key}", "https://evil.example.net"),
        ("?site_key={key}", "null"),
        ("?site_key={key}", None),
        ("", ORIGIN),
    ],
)
async def test_the_handshake_is_refused_before_accept(site, query, origin):
    headers = [(b"origin", origin.encode())] if origin else []
    path = "/ws/chat/lobby/" + query.format(key=site.key)
    connected, _ = await WebsocketCommunicator(application, path, headers=headers).connect()
    assert connected is False


async def test_other_socket_paths_are_refused(site):
    headers = [(b"origin", ORIGIN.encode())]
    path = f"/ws/chat/bad room!/?site_key={site.key}"
    connected, _ = await WebsocketCommunicator(application, path, headers=headers).connect()
    assert connected is False


async def test_a_revoked_key_is_refused_at_the_handshake(site):
    await database_sync_to_async(site_revoke_keys)(site=site.site)
    connected, _ = await chat_socket(site, "lobby").connect()
    assert connected is False


# --- auth -------------------------------------------------------------------------------------


async def test_no_auth_in_time_closes_4401(site, ws_settings):
    ws_settings(AUTH_TIMEOUT=0.3)
    socket = chat_socket(site, "lobby")
    assert (await socket.connect())[0]
    assert await closed_with(socket) == 4401


@pytest.mark.parametrize(
    "first",
    ['{"type": "ping"}', "not json", "[1, 2]", '{"type": "message", "text": "hi"}'],
)
async def test_anything_but_auth_first_closes_4400(site, first):
    socket = chat_socket(site, "lobby")
    await socket.connect()
    await socket.send_to(text_data=first)
    assert await closed_with(socket) == 4400


async def test_a_malformed_auth_frame_closes_4400(site, visitor):
    socket = chat_socket(site, visitor.room)
    await socket.connect()
    await socket.send_json_to({"type": "auth", "token": visitor.token, "since": "yesterday"})
    assert await closed_with(socket) == 4400


@pytest.mark.parametrize("token", ["", "garbage", None])
async def test_a_bad_token_closes_4401(site, visitor, token):
    socket = chat_socket(site, visitor.room)
    await socket.connect()
    frame = {"type": "auth"} if token is None else {"type": "auth", "token": token}
    await socket.send_json_to(frame)
    assert await closed_with(socket) == 4401


async def test_a_token_of_another_site_closes_4401(site, tenant_a, on_plan):
    await database_sync_to_async(on_plan)(tenant_a, "pro")  # room for a second site
    other_site = await database_sync_to_async(make_site)(tenant_a, name="Blog")
    stranger = await database_sync_to_async(make_visitor)(other_site)
    socket = chat_socket(site, "lobby")
    await socket.connect()
    await socket.send_json_to({"type": "auth", "token": stranger.token})
    assert await closed_with(socket) == 4401


async def test_a_token_for_another_conversation_closes_4403(site, visitor):
    other = await database_sync_to_async(make_visitor)(site)
    socket = chat_socket(site, other.room)
    await socket.connect()
    await socket.send_json_to({"type": "auth", "token": visitor.token})
    assert await closed_with(socket) == 4403


async def test_public_rooms_only_where_the_site_allows_them(site, tenant_a, on_plan):
    await database_sync_to_async(on_plan)(tenant_a, "pro")  # room for a second site
    socket = await joined(site, await database_sync_to_async(make_visitor)(site, room="lobby"))
    assert socket.ready["room"] == "lobby"
    await socket.disconnect()

    closed_site = await database_sync_to_async(make_site)(tenant_a, name="Closed")
    visitor = await database_sync_to_async(make_visitor)(closed_site, room="lobby")
    socket = chat_socket(closed_site, "lobby")
    await socket.connect()
    await socket.send_json_to({"type": "auth", "token": visitor.token})
    assert await closed_with(socket) == 4403


async def test_a_second_auth_is_refused_and_the_socket_stays_open(site, visitor):
    socket = await joined(site, visitor)
    await socket.send_json_to({"type": "auth", "token": visitor.token})
    error = await socket.receive_json_from(timeout=5)
    assert error["type"] == "error"
    assert error["code"] == "bad_request"
    await socket.send_json_to({"type": "ping"})
    assert await socket.receive_json_from(timeout=5) == {"type": "pong"}
    await socket.disconnect()


# --- ready and resume -------------------------------------------------------------------------


async def test_ready_carries_the_latest_messages_or_everything_after_since(
    site, visitor, ws_settings
):
    ws_settings(READY_MESSAGES=2)
    ids = [await database_sync_to_async(post)(site, visitor.room, f"m{n}") for n in range(3)]

    socket = await joined(site, visitor)
    assert [m["id"] for m in socket.ready["messages"]] == ids[1:]
    assert socket.ready["has_more"] is True
    assert socket.ready["messages"][0]["author"] == {"kind": "agent", "id": "1", "name": "Ada"}
    await socket.disconnect()

    ws_settings(RESUME_OVERLAP=0)
    socket = await joined(site, visitor, since=ids[0])
    assert [m["text"] for m in socket.ready["messages"]] == ["m1", "m2"]
    assert socket.ready["has_more"] is False
    await socket.disconnect()


async def test_a_resume_repeats_the_messages_stored_just_before_since(site, visitor):
    """A lower id can still be on its way when a higher one arrives (two workers publish
    independently): the resume repeats what was stored in the seconds up to `since`, and nothing
    older (PARLEY_WS_RESUME_OVERLAP, 10 s)."""
    ids = [await database_sync_to_async(post)(site, visitor.room, f"m{n}") for n in range(4)]

    def age(message_id: int, seconds: int) -> None:
        with schema_context(site.tenant.schema_name):
            Message.objects.filter(id=message_id).update(
                created_at=timezone.now() - timedelta(seconds=seconds)
            )

    await database_sync_to_async(age)(ids[0], 3600)

    socket = await joined(site, visitor, since=ids[2])
    assert [m["text"] for m in socket.ready["messages"]] == ["m1", "m2", "m3"]
    assert socket.ready["has_more"] is False
    await socket.disconnect()


# --- message ----------------------------------------------------------------------------------


async def test_a_message_is_acked_stored_and_broadcast_once(site, visitor):
    sender = await joined(site, visitor)
    other_tab = await joined(site, visitor)

    ack, broadcast = await send_message(sender, "  Hello there  ", "c-1")
    assert ack["client_id"] == "c-1"
    assert ack["type"] == "ack"
    assert broadcast["id"] == ack["id"]
    assert broadcast["text"] == "Hello there"
    assert broadcast["author"] == {"kind": "visitor", "id": visitor.visitor_id, "name": "Grace"}
    seen = await other_tab.receive_json_from(timeout=5)
    assert seen == broadcast

    # A resend after a lost ack: the same ack, nothing stored or broadcast again.
    await sender.send_json_to({"type": "message", "client_id": "c-1", "text": "Hello there"})
    again = await sender.receive_json_from(timeout=5)
    assert again == ack
    assert await sender.receive_nothing(timeout=0.3)
    assert await other_tab.receive_nothing(timeout=0.3)

    def stored():
        with schema_context(site.tenant.schema_name):
            rows = Message.objects.filter(conversation__room=visitor.room)
            return list(rows.values_list("text", flat=True))

    assert await database_sync_to_async(stored)() == ["Hello there"]
    await sender.disconnect()
    await other_tab.disconnect()


async def test_another_visitors_client_id_in_a_public_room_is_not_a_resend(site):
    """A visitor of a public room who reuses the client_id another member sent (seen in its
    `message` frame) stores a message of its own: it does not get the other's ack."""
    alice = await database_sync_to_async(make_visitor)(site, name="Alice", room="lobby")
    mallory = await database_sync_to_async(make_visitor)(site, name="Mallory", room="lobby")
    alice_socket = await joined(site, alice)
    mallory_socket = await joined(site, mallory)
    alice_ack, _ = await send_message(alice_socket, "Alice here", "c-1")
    mallory_ack, broadcast = await send_message(mallory_socket, "Mallory here", "c-1")
    assert mallory_ack["id"] != alice_ack["id"]
    assert (broadcast["text"], broadcast["author"]["name"]) == ("Mallory here", "Mallory")
    await alice_socket.disconnect()
    await mallory_socket.disconnect()


async def test_message_ids_increase_within_a_room(site, visitor):
    socket = await joined(site, visitor)
    ids = [(await send_message(socket, f"n{n}", f"c{n}"))[0]["id"] for n in range(5)]
    assert ids == sorted(ids)
    assert len(set(ids)) == 5
    await socket.disconnect()


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ({"type": "message", "client_id": "c", "text": "   "}, "bad_request"),
        ({"type": "message", "client_id": "c", "text": "x" * 4001}, "too_large"),
        ({"type": "message", "text": "no client id"}, "bad_request"),
        ({"type": "message", "client_id": "", "text": "hi"}, "bad_request"),
        ({"type": "message", "client_id": "c", "text": 42}, "bad_request"),
        ({"type": "typing", "state": "yes"}, "bad_request"),
        ({"type": "read", "up_to": -1}, "bad_request"),
        ({"type": "history", "limit": 0}, "bad_request"),
        ({"type": "history", "limit": 101}, "bad_request"),
        ({"type": "shout"}, "unknown_type"),
        ({"no": "type"}, "bad_request"),
    ],
)
async def test_a_refused_frame_gets_an_error_and_the_socket_stays_open(site, visitor, frame, code):
    socket = await joined(site, visitor)
    await socket.send_json_to(frame)
    error = await socket.receive_json_from(timeout=5)
    assert error["type"] == "error"
    assert error["code"] == code
    assert error["message"]
    await socket.send_json_to({"type": "ping"})
    assert await socket.receive_json_from(timeout=5) == {"type": "pong"}
    await socket.disconnect()


@pytest.mark.parametrize(
    "frame",
    [
        {"type": "message", "client_id": "nul", "text": "before\u0000after"},
        {"type": "message", "client_id": "nul\u0000", "text": "hello"},
        {"type": "typing", "state": "on", "extra\u0000": 1},
    ],
)
async def test_text_postgresql_cannot_store_is_refused_and_another_visitors_message_is_stored(
    site, visitor, frame
):
    """NUL (U+0000) in any field: `bad_request` for that frame (with its client_id when there is
    one), the socket stays open, and another visitor's message at the same time is stored."""
    other = await database_sync_to_async(make_visitor)(site, name="Other")
    socket = await joined(site, visitor)
    other_socket = await joined(site, other)
    await socket.send_to(text_data=json.dumps(frame))
    other_ack, _ = await send_message(other_socket, "fine", "c-ok")
    error = await socket.receive_json_from(timeout=5)
    assert (error["type"], error["code"]) == ("error", "bad_request")
    assert "NUL" in error["message"]
    if frame["type"] == "message" and "\x00" not in frame["client_id"]:
        assert error["client_id"] == frame["client_id"]
    assert other_ack["type"] == "ack"
    _ack, broadcast = await send_message(socket, "still here", "c-after")
    assert broadcast["text"] == "still here"

    def stored():
        with schema_context(site.tenant.schema_name):
            return sorted(Message.objects.values_list("text", flat=True))

    assert await database_sync_to_async(stored)() == ["fine", "still here"]
    await socket.disconnect()
    await other_socket.disconnect()


async def test_text_of_exactly_4000_characters_is_accepted(site, visitor):
    socket = await joined(site, visitor)
    _, broadcast = await send_message(socket, "é" * 4000, "long")
    assert len(broadcast["text"]) == 4000
    await socket.disconnect()


async def test_a_frame_over_16_kib_closes_4400(site, visitor):
    socket = await joined(site, visitor)
    frame = '{"type": "message", "client_id": "c", "text": "' + "x" * 16400 + '"}'
    await socket.send_to(text_data=frame)
    assert await closed_with(socket) == 4400


async def test_a_binary_frame_closes_4400(site, visitor):
    socket = await joined(site, visitor)
    await socket.send_to(bytes_data=b'{"type": "ping"}')
    assert await closed_with(socket) == 4400


async def test_a_server_error_closes_1011(site, visitor, monkeypatch):
    def crash(**kwargs):
        raise RuntimeError("database on fire")

    monkeypatch.setattr("widget.writer.message_post_many", crash)
    socket = await joined(site, visitor)
    await socket.send_json_to({"type": "message", "client_id": "c", "text": "hi"})
    assert await closed_with(socket) == 1011


# --- typing, read, history, ping --------------------------------------------------------------


async def test_typing_reaches_the_others_only_and_is_not_stored(site):
    alice = await database_sync_to_async(make_visitor)(site, name="Alice", room="lobby")
    bob = await database_sync_to_async(make_visitor)(site, name="Bob", room="lobby")
    alice_socket = await joined(site, alice)
    bob_socket = await joined(site, bob)

    await alice_socket.send_json_to({"type": "typing", "state": True})
    typing = await bob_socket.receive_json_from(timeout=5)
    assert typing == {
        "type": "typing",
        "author": {"kind": "visitor", "id": alice.visitor_id, "name": "Alice"},
        "state": True,
    }
    assert await alice_socket.receive_nothing(timeout=0.3)
    await alice_socket.disconnect()
    await bob_socket.disconnect()


async def test_a_read_mark_is_stored_and_reaches_the_others(site, visitor):
    message_id = await database_sync_to_async(post)(site, visitor.room, "hello")
    reader = await joined(site, visitor)
    other_tab = await joined(site, visitor)
    await reader.send_json_to({"type": "read", "up_to": message_id})
    read = await other_tab.receive_json_from(timeout=5)
    assert read["type"] == "read"
    assert read["up_to"] == message_id
    assert read["author"]["id"] == visitor.visitor_id
    assert await reader.receive_nothing(timeout=0.3)

    def mark():
        with schema_context(site.tenant.schema_name):
            return Conversation.objects.get(room=visitor.room).visitor_read_up_to

    assert await database_sync_to_async(mark)() == message_id
    await reader.disconnect()
    await other_tab.disconnect()


async def test_history_pages_backwards(site, visitor):
    ids = [await database_sync_to_async(post)(site, visitor.room, f"m{n}") for n in range(5)]
    socket = await joined(site, visitor)
    await socket.send_json_to({"type": "history", "before": ids[3], "limit": 2})
    page = await socket.receive_json_from(timeout=5)
    assert page["type"] == "history"
    assert [m["id"] for m in page["messages"]] == ids[1:3]
    assert page["has_more"] is True
    await socket.send_json_to({"type": "history", "before": ids[1], "limit": 2})
    page = await socket.receive_json_from(timeout=5)
    assert [m["id"] for m in page["messages"]] == ids[:1]
    assert page["has_more"] is False
    await socket.disconnect()


async def test_ping_is_answered_with_pong(site, visitor):
    socket = await joined(site, visitor)
    await socket.send_json_to({"type": "ping"})
    assert await socket.receive_json_from(timeout=5) == {"type": "pong"}
    await socket.disconnect()


# --- limits and server-side closes ------------------------------------------------------------


async def test_too_many_frames_are_refused_then_a_flood_closes_4429(site, visitor, ws_settings):
    ws_settings(FRAME_RATE=1, FRAME_BURST=3, ABUSE_RATE=0.1, ABUSE_BURST=3)
    socket = await joined(site, visitor)
    for _ in range(3):
        await socket.send_json_to({"type": "ping"})
        assert await socket.receive_json_from(timeout=5) == {"type": "pong"}
    await socket.send_json_to({"type": "ping"})
    refused = await socket.receive_json_from(timeout=5)
    assert refused["code"] == "rate_limited"
    assert refused["retry_after"] >= 1
    for _ in range(5):
        await socket.send_json_to({"type": "ping"})
    assert await closed_with(socket) == 4429


async def test_the_visitor_frame_budget_is_shared_by_its_sockets(site, visitor, ws_settings):
    ws_settings(VISITOR_FRAME_RATE=0.1, VISITOR_FRAME_BURST=2)
    first = await joined(site, visitor)
    second = await joined(site, visitor)
    for socket in (first, second):
        await socket.send_json_to({"type": "ping"})
        assert await socket.receive_json_from(timeout=5) == {"type": "pong"}
    await first.send_json_to({"type": "ping"})
    assert (await first.receive_json_from(timeout=5))["code"] == "rate_limited"
    await first.disconnect()
    await second.disconnect()


async def test_too_many_sockets_of_one_visitor_close_4429(site, visitor, ws_settings):
    ws_settings(VISITOR_CONNECTIONS=2)
    sockets = [await joined(site, visitor) for _ in range(2)]
    third = chat_socket(site, visitor.room)
    await third.connect()
    await third.send_json_to({"type": "auth", "token": visitor.token})
    assert await closed_with(third) == 4429
    for socket in sockets:
        await socket.disconnect()


async def test_an_idle_socket_closes_4408_and_pings_keep_it_open(site, visitor, ws_settings):
    ws_settings(IDLE_TIMEOUT=1.0)
    quiet = await joined(site, visitor)
    chatty = await joined(site, visitor)
    for _ in range(5):
        await asyncio.sleep(0.3)
        await chatty.send_json_to({"type": "ping"})
        assert await chatty.receive_json_from(timeout=5) == {"type": "pong"}
    assert await closed_with(quiet) == 4408
    await chatty.disconnect()


async def test_revoking_the_site_keys_closes_its_sockets_4403(site, visitor):
    socket = await joined(site, visitor)
    await database_sync_to_async(site_revoke_keys)(site=site.site)
    assert await closed_with(socket) == 4403


async def test_deleting_the_site_closes_its_sockets_4403_at_once(site, visitor, ws_settings):
    ws_settings(KEY_RECHECK=600.0)  # the socket's own key re-check cannot be what closes it
    socket = await joined(site, visitor)
    await database_sync_to_async(site_delete)(site=site.site)
    assert await closed_with(socket) == 4403


async def test_deleting_the_site_through_the_api_closes_its_sockets_and_refuses_its_key(
    site, visitor, ws_settings, api_a
):
    ws_settings(KEY_RECHECK=600.0)  # the socket's own key re-check cannot be what closes it
    socket = await joined(site, visitor)
    deleted = await database_sync_to_async(api_a.delete)(f"/api/v1/sites/{site.site.id}")
    assert deleted.status_code == 204
    assert await closed_with(socket) == 4403
    session = await database_sync_to_async(PlatformClient(HTTP_ORIGIN=site.origin).post_json)(
        "/api/widget/v1/session", {"site_key": site.key}
    )
    assert (session.status_code, error_code(session)) == (404, "unknown_site_key")
    connected, _ = await chat_socket(site, visitor.room).connect()
    assert connected is False


async def test_a_rotated_key_closes_its_sockets_when_the_grace_ends(site, visitor, ws_settings):
    ws_settings(KEY_RECHECK=0.2)
    socket = await joined(site, visitor)
    await database_sync_to_async(site_rotate_key)(site=site.site, grace_seconds=1)
    started = timezone.now()
    assert await closed_with(socket, timeout=5) == 4403
    assert timezone.now() - started >= timedelta(seconds=0.8)


async def test_draining_the_process_closes_sockets_1012(site, visitor):
    socket = await joined(site, visitor)
    await hub.close_all(1012)
    assert await closed_with(socket) == 1012


# --- many writers -----------------------------------------------------------------------------


async def test_concurrent_senders_in_a_room_each_see_every_message_once(site):
    members = [
        await database_sync_to_async(make_visitor)(site, name=f"v{n}", room="busy")
        for n in range(5)
    ]
    sockets = [await joined(site, member) for member in members]

    async def send_five(index: int, socket) -> list[int]:
        for k in range(5):
            frame = {"type": "message", "client_id": f"{index}-{k}", "text": f"{index}/{k}"}
            await socket.send_json_to(frame)
        return [(await expect(socket, lambda f: f["type"] == "ack"))["id"] for _ in range(5)]

    acked = await asyncio.gather(*(send_five(i, s) for i, s in enumerate(sockets)))
    all_ids = sorted(i for ids in acked for i in ids)
    assert len(set(all_ids)) == 25
    for ids in acked:
        assert ids == sorted(ids)  # one sender's messages keep their order
    for socket in sockets:
        seen = [(await expect(socket, lambda f: f["type"] == "message"))["id"] for _ in range(25)]
        assert sorted(seen) == all_ids
        assert await socket.receive_nothing(timeout=0.2)
    for socket in sockets:
        await socket.disconnect()
