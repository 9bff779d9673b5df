"""`/api/v1/conversations` and `/api/v1/visitors`: reading, sending, erasing; tenants apart."""

import asyncio
import uuid

import pytest
from asgiref.sync import sync_to_async
from django.utils.timezone import now
from django_tenants.utils import schema_context

from tenants.services import site_create
from tests.support.api_clients import error_code
from tests.support.sockets import Listener, stop_realtime
from widget import events
from widget.fanout.hub import hub
from widget.models import Conversation, Message, Visitor
from widget.services.messages import message_post

pytestmark = pytest.mark.django_db


@pytest.fixture
def site(tenant_a):
    return site_create(tenant=tenant_a, name="Shop", allowed_origins=["https://shop.example"])


def make_conversation(tenant, site_id: int, *, room: str, status="open", messages=()):
    with schema_context(tenant.schema_name):
        visitor = Visitor.objects.create(site_id=site_id, name=f"Visitor of {room}")
        conversation = Conversation.objects.create(
            room=room, site_id=site_id, visitor=visitor, status=status, last_message_at=now()
        )
        for text in messages:
            Message.objects.create(
                conversation=conversation,
                author_kind="visitor",
                author_id=str(visitor.id),
                text=text,
            )
        return conversation


# --- Reading ------------------------------------------------------------------------------


def test_conversations_are_listed_newest_first_page_by_page(api_a, tenant_a, site):
    rooms = [make_conversation(tenant_a, site.id, room=f"cv_{n}").room for n in range(3)]
    first = api_a.get("/api/v1/conversations", {"limit": 2})
    assert first.status_code == 200
    assert [c["room"] for c in first.json()["data"]] == rooms[::-1][:2]
    second = api_a.get("/api/v1/conversations", {"limit": 2, "cursor": first.json()["next"]})
    assert [c["room"] for c in second.json()["data"]] == rooms[:1]
    assert second.json()["next"] is None
    listed = first.json()["data"][0]
    assert listed["visitor"]["name"] == "Visitor of cv_2"
    assert (listed["site_id"], listed["kind"], listed["status"]) == (site.id, "private", "open")


def test_conversations_are_filtered_by_status_and_site(api_a, tenant_a, site, on_plan):
    on_plan(tenant_a, "pro")  # room for a second site
    other_site = site_create(tenant=tenant_a, name="Blog", allowed_origins=[])
    make_conversation(tenant_a, site.id, room="cv_open")
    make_conversation(tenant_a, site.id, room="cv_closed", status="closed")
    make_conversation(tenant_a, other_site.id, room="cv_blog")

    def rooms(query):
        response = api_a.get("/api/v1/conversations", query)
        assert response.status_code == 200
        return {c["room"] for c in response.json()["data"]}

    assert rooms({"status": "closed"}) == {"cv_closed"}
    assert rooms({"status": "open", "site": site.id}) == {"cv_open"}
    assert rooms({"site": other_site.id}) == {"cv_blog"}


@pytest.mark.parametrize(
    "query", [{"status": "archived"}, {"site": "shop"}, {"site": 0}, {"limit": 1000}]
)
def test_bad_filters_are_refused(api_a, query):
    response = api_a.get("/api/v1/conversations", query)
    assert response.status_code == 400
    assert error_code(response) == "bad_request"


def test_messages_are_listed_oldest_first_page_by_page(api_a, tenant_a, site):
    conversation = make_conversation(tenant_a, site.id, room="cv_m", messages=["a", "b", "c"])
    path = f"/api/v1/conversations/{conversation.id}/messages"
    first = api_a.get(path, {"limit": 2}).json()
    assert [m["text"] for m in first["data"]] == ["a", "b"]
    assert first["data"][0]["author"]["kind"] == "visitor"
    rest = api_a.get(path, {"limit": 2, "cursor": first["next"]}).json()
    assert [m["text"] for m in rest["data"]] == ["c"]
    assert rest["next"] is None


# --- Another tenant -----------------------------------------------------------------------


@pytest.fixture
def b_conversation(tenant_a, tenant_b):
    b_site = site_create(tenant=tenant_b, name="B", allowed_origins=[])
    conversation = make_conversation(tenant_b, b_site.id, room="cv_secret", messages=["B only"])
    with schema_context(tenant_a.schema_name):  # ids are per schema: make sure A has no such id
        Conversation.objects.filter(pk=conversation.pk).delete()
    return conversation


def test_another_tenants_conversations_are_never_listed(api_a, b_conversation):
    assert api_a.get("/api/v1/conversations").json()["data"] == []


def test_another_tenants_site_filter_is_not_found(api_a, b_conversation):
    response = api_a.get("/api/v1/conversations", {"site": b_conversation.site_id})
    assert response.status_code == 404
    assert error_code(response) == "not_found"


@pytest.mark.parametrize("method", ["get", "post_json"])
def test_another_tenants_conversation_is_not_found(api_a, tenant_b, b_conversation, method):
    path = f"/api/v1/conversations/{b_conversation.id}/messages"
    response = getattr(api_a, method)(path, *([{"text": "hi"}] if method == "post_json" else []))
    assert response.status_code == 404
    assert error_code(response) == "not_found"
    assert "B only" not in response.content.decode()
    with schema_context(tenant_b.schema_name):
        assert list(b_conversation.messages.values_list("text", flat=True)) == ["B only"]


# --- Sending ------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
async def test_a_message_sent_through_the_api_is_stored_and_delivered_live(api_a, tenant_a, site):
    conversation = await sync_to_async(make_conversation)(
        tenant_a, site.id, room="cv_live", status="closed"
    )
    visitor_socket = Listener("visitor")
    await hub.join(events.room_group(tenant_a.id, site.id, "cv_live"), visitor_socket)
    try:
        response = await sync_to_async(api_a.post_json)(
            f"/api/v1/conversations/{conversation.id}/messages",
            {"text": "  Hello from support  ", "client_id": "c-1", "author": {"name": "Bot"}},
        )
        assert response.status_code == 201, response.content
        sent = response.json()
        assert sent["text"] == "Hello from support"
        assert sent["author"]["kind"] == "agent"
        assert sent["author"]["name"] == "Bot"

        frame = await visitor_socket.next_frame()
        assert (frame["type"], frame["id"], frame["text"]) == ("message", sent["id"], sent["text"])

        def reopened() -> str:
            with schema_context(tenant_a.schema_name):
                conversation.refresh_from_db()
                return conversation.status

        assert await sync_to_async(reopened)() == "open"  # a message reopens a closed one

        again = await sync_to_async(api_a.post_json)(
            f"/api/v1/conversations/{conversation.id}/messages", {"text": "dup", "client_id": "c-1"}
        )
        assert again.status_code == 200
        assert again.json()["id"] == sent["id"]
        await asyncio.sleep(0.2)
        assert visitor_socket.frames == []  # the resend is not delivered again
    finally:
        await stop_realtime()


def test_a_client_id_a_visitor_sent_first_does_not_capture_the_apis_message(api_a, tenant_a, site):
    """A visitor who guesses the client_id a tenant's server will use, and sends it first, must
    not make the server's message answer with the visitor's: a client_id is its author's own."""
    conversation = make_conversation(tenant_a, site.id, room="cv_guess")
    with schema_context(tenant_a.schema_name):
        planted, _ = message_post(
            tenant_id=tenant_a.id,
            conversation=conversation,
            text="Your refund was denied, call +1 555 0100",
            author_kind="visitor",
            author_id=str(conversation.visitor_id),
            client_id="order-42",
        )
    response = api_a.post_json(
        f"/api/v1/conversations/{conversation.id}/messages",
        {"text": "Your refund is on its way", "client_id": "order-42"},
    )
    assert response.status_code == 201
    sent = response.json()
    assert sent["id"] != planted.id
    assert (sent["text"], sent["author"]["kind"]) == ("Your refund is on its way", "agent")
    again = api_a.post_json(
        f"/api/v1/conversations/{conversation.id}/messages",
        {"text": "Your refund is on its way", "client_id": "order-42"},
    )
    assert (again.status_code, again.json()["id"]) == (200, sent["id"])  # its own retry still is
    with schema_context(tenant_a.schema_name):
        assert conversation.messages.count() == 2


def test_a_system_message_is_named_after_the_tenant_by_default(api_a, tenant_a, site):
    conversation = make_conversation(tenant_a, site.id, room="cv_sys")
    response = api_a.post_json(
        f"/api/v1/conversations/{conversation.id}/messages",
        {"text": "Closed for the night", "author": {"kind": "system"}},
    )
    assert response.status_code == 201
    assert response.json()["author"]["kind"] == "system"
    assert response.json()["author"]["name"] == tenant_a.name


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"text": ""},
        {"text": "   "},
        {"text": "x" * 4001},
        {"text": 5},
        {"text": "hi", "author": {"kind": "visitor"}},
        {"text": "hi", "author": "agent"},
        {"text": "hi", "client_id": "has spaces"},
        {"text": "hi", "room": "cv_other"},
        {"text": "hi\x00"},
    ],
)
def test_a_bad_message_is_refused(api_a, tenant_a, site, body):
    conversation = make_conversation(tenant_a, site.id, room="cv_bad")
    response = api_a.post_json(f"/api/v1/conversations/{conversation.id}/messages", body)
    assert response.status_code == 400
    assert error_code(response) == "bad_request"
    with schema_context(tenant_a.schema_name):
        assert not conversation.messages.exists()


def test_a_malformed_message_body_is_refused(api_a, tenant_a, site):
    conversation = make_conversation(tenant_a, site.id, room="cv_json")
    response = api_a.post_json(f"/api/v1/conversations/{conversation.id}/messages", "{text")
    assert response.status_code == 400
    assert error_code(response) == "invalid_json"


def test_an_oversized_message_body_is_refused(api_a, tenant_a, site):
    conversation = make_conversation(tenant_a, site.id, room="cv_big")
    body = {"text": "hi", "author": {"name": "x" * 70_000}}
    response = api_a.post_json(f"/api/v1/conversations/{conversation.id}/messages", body)
    assert response.status_code == 413
    assert error_code(response) == "payload_too_large"


def test_a_missing_conversation_is_not_found(api_a):
    response = api_a.get("/api/v1/conversations/987654321/messages")
    assert response.status_code == 404
    assert error_code(response) == "not_found"


# --- Erasing a visitor --------------------------------------------------------------------


def test_erasing_a_visitor_removes_them_and_everything_they_wrote(api_a, tenant_a, site):
    conversation = make_conversation(tenant_a, site.id, room="cv_erase", messages=["mine"])
    keeper = make_conversation(tenant_a, site.id, room="cv_keep", messages=["stays"])
    with schema_context(tenant_a.schema_name):
        visitor = conversation.visitor
        lobby = Conversation.objects.create(room="lobby", site_id=site.id, kind="public")
        Message.objects.create(
            conversation=lobby, author_kind="visitor", author_id=str(visitor.id), text="in public"
        )
        Message.objects.create(conversation=lobby, author_kind="agent", text="agent reply")

    response = api_a.delete(f"/api/v1/visitors/{visitor.id}")
    assert response.status_code == 204
    with schema_context(tenant_a.schema_name):
        assert not Visitor.objects.filter(pk=visitor.pk).exists()
        assert not Conversation.objects.filter(pk=conversation.pk).exists()
        assert not Message.objects.filter(text__in=["mine", "in public"]).exists()
        assert set(Message.objects.values_list("text", flat=True)) == {"stays", "agent reply"}
        assert Visitor.objects.filter(pk=keeper.visitor_id).exists()

    again = api_a.delete(f"/api/v1/visitors/{visitor.id}")
    assert again.status_code == 404
    assert error_code(again) == "not_found"


def test_another_tenants_visitor_is_not_found(api_a, tenant_b, b_conversation):
    response = api_a.delete(f"/api/v1/visitors/{b_conversation.visitor_id}")
    assert response.status_code == 404
    assert error_code(response) == "not_found"
    with schema_context(tenant_b.schema_name):
        assert Visitor.objects.filter(pk=b_conversation.visitor_id).exists()


@pytest.mark.parametrize("visitor_id", ["not-a-uuid", "1"])
def test_a_malformed_visitor_id_is_refused(api_a, visitor_id):
    response = api_a.delete(f"/api/v1/visitors/{visitor_id}")
    assert response.status_code == 400
    assert error_code(response) == "bad_request"


def test_an_unknown_visitor_is_not_found(api_a):
    response = api_a.delete(f"/api/v1/visitors/{uuid.uuid4()}")
    assert response.status_code == 404


def test_conversations_are_searched_and_filtered_within_the_tenant(
    api_a, tenant_a, site, b_conversation
):
    make_conversation(tenant_a, site.id, room="cv_refund", messages=["I want a refund & more"])
    make_conversation(tenant_a, site.id, room="cv_other", messages=["hello"])
    make_conversation(tenant_a, site.id, room="cv_silent")
    with schema_context(tenant_a.schema_name):
        Conversation.objects.filter(room="cv_silent").update(last_message_at=None)
    found = api_a.get("/api/v1/conversations", {"q": "refund"}).json()["data"]
    assert [c["room"] for c in found] == ["cv_refund"]
    assert "<mark>refund</mark>" in found[0]["headline"]
    assert api_a.get("/api/v1/conversations", {"q": "B only"}).json()["data"] == []
    listed = {c["room"] for c in api_a.get("/api/v1/conversations").json()["data"]}
    assert listed == {"cv_refund", "cv_other"}  # a session without a message is no conversation
    assert api_a.get("/api/v1/conversations", {"unassigned": "true", "snoozed": "false"}).json()[
        "data"
    ]
    assert api_a.get("/api/v1/conversations", {"cursor": "forged"}).status_code == 400
