"""Several conversations per visitor: `GET /api/widget/v1/conversations` lists the visitor's own,
`POST /api/widget/v1/session` opens one of them (`conversation`) or a new one
(`new_conversation`), and nobody opens or lists anyone else's (PROTOCOL.md, Several
conversations)."""

import hashlib
import hmac
import io
import uuid

import pytest
from channels.db import database_sync_to_async
from django_tenants.utils import schema_context

from tenants.selectors import site_current_key
from tenants.services import site_create
from tenants.tokens import token_verify
from tests.support.api_clients import PlatformClient, error_code
from tests.support.factories import SiteFixture
from tests.support.sockets import chat_socket, closed_with, expect
from widget.models import Attachment, Conversation, Message, Rating, Visitor
from widget.selectors import visitor_other_conversations
from widget.services.messages import message_post

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("platform")]

SESSION = "/api/widget/v1/session"
LIST = "/api/widget/v1/conversations"
ORIGIN = "https://shop.example.com"


def a_site(tenant, name="Shop", origin=ORIGIN):
    site = site_create(tenant=tenant, name=name, allowed_origins=[origin])
    return site, site_current_key(site).key


@pytest.fixture
def shop(tenant_a):
    return a_site(tenant_a)


@pytest.fixture
def browser():
    # An address of its own: the conversation budgets outlive a test in process memory.
    return PlatformClient(HTTP_ORIGIN=ORIGIN, REMOTE_ADDR=f"2001:db8::{uuid.uuid4().hex[:4]}")


def session(browser, site_key, **body):
    response = browser.post_json(SESSION, {"site_key": site_key, **body})
    return response


def started(browser, site_key, **body) -> dict:
    response = session(browser, site_key, **body)
    assert response.status_code == 200, response.content
    return response.json()


def listed(browser, site_key, token, **extra):
    return browser.get(LIST, {"site_key": site_key}, HTTP_AUTHORIZATION=f"Bearer {token}", **extra)


def say(tenant, room, text, *, kind="visitor", name="", author_id="", private=False):
    with schema_context(tenant.schema_name):
        conversation = Conversation.objects.get(room=room)
        message, _ = message_post(
            tenant_id=tenant.id,
            conversation=conversation,
            text=text,
            author_kind=kind,
            author_id=author_id or ("agent-1" if kind == "agent" else str(conversation.visitor_id)),
            author_name=name,
            private=private,
        )
    return message


def test_a_visitor_lists_their_conversations_newest_first_with_preview_agent_and_unread(
    browser, shop, tenant_a
):
    _, key = shop
    first = started(browser, key)
    say(tenant_a, first["conversation"], "My order is late")
    say(
        tenant_a,
        first["conversation"],
        "Sorry! It ships **today**.",
        kind="agent",
        name="Ada Lovelace",
    )
    say(
        tenant_a,
        first["conversation"],
        "Internal: check stock",
        kind="agent",
        name="Bob",
        private=True,
    )
    second = started(browser, key, visitor_token=first["token"], new_conversation=True)
    assert second["conversation"] != first["conversation"]
    assert second["visitor_id"] == first["visitor_id"]
    say(tenant_a, second["conversation"], "Another question")

    answer = listed(browser, key, second["token"])
    assert answer.status_code == 200, answer.content
    assert answer["Access-Control-Allow-Origin"] == ORIGIN
    body = answer.json()
    assert body["has_more"] is False
    assert [row["id"] for row in body["conversations"]] == [
        second["conversation"],
        first["conversation"],
    ]
    newest, older = body["conversations"]
    assert newest["last_message"]["text"] == "Another question"
    assert newest["last_message"]["author"] == "visitor"
    assert newest["agent"] is None
    assert newest["unread"] == 0
    assert newest["status"] == "open"
    # The note is the team's own: never the preview, the agent shown, or an unread message.
    assert older["last_message"]["text"] == "Sorry! It ships **today**."
    assert older["last_message"]["author"] == "agent"
    assert older["agent"] == {
        "name": "Ada Lovelace",
        "avatar": {"initials": "AL", "color": older["agent"]["avatar"]["color"]},
    }
    assert 0 <= older["agent"]["avatar"]["color"] <= 7
    assert older["unread"] == 1


def test_the_unread_count_follows_the_visitors_read_mark_and_a_closed_one_says_so(
    browser, shop, tenant_a
):
    _, key = shop
    first = started(browser, key)
    say(tenant_a, first["conversation"], "Hello")
    answers = [
        say(tenant_a, first["conversation"], f"Answer {n}", kind="agent", name="Ada")
        for n in range(3)
    ]
    with schema_context(tenant_a.schema_name):
        Conversation.objects.filter(room=first["conversation"]).update(
            visitor_read_up_to=answers[0].id, status=Conversation.Status.CLOSED
        )
    (row,) = listed(browser, key, first["token"]).json()["conversations"]
    assert row["unread"] == 2
    assert row["status"] == "closed"


def test_an_empty_conversation_is_not_listed_and_new_conversation_reuses_it(
    browser, shop, tenant_a
):
    _, key = shop
    first = started(browser, key)
    assert listed(browser, key, first["token"]).json() == {"conversations": [], "has_more": False}
    # Nothing said yet: "New conversation" is the same empty row, however often it is asked.
    again = started(browser, key, visitor_token=first["token"], new_conversation=True)
    assert again["conversation"] == first["conversation"]
    say(tenant_a, first["conversation"], "Hi")
    fresh = started(browser, key, visitor_token=first["token"], new_conversation=True)
    twice = started(browser, key, visitor_token=fresh["token"], new_conversation=True)
    assert fresh["conversation"] == twice["conversation"] != first["conversation"]
    with schema_context(tenant_a.schema_name):
        assert Conversation.objects.filter(visitor_id=first["visitor_id"]).count() == 2


def test_a_session_keeps_the_tokens_conversation_and_opens_another_of_the_visitors_own(
    browser, shop, tenant_a
):
    _, key = shop
    first = started(browser, key)
    say(tenant_a, first["conversation"], "one")
    second = started(browser, key, visitor_token=first["token"], new_conversation=True)
    say(tenant_a, second["conversation"], "two")
    # A renewal (no choice) keeps the conversation its token names, not the newest.
    back = started(browser, key, visitor_token=first["token"])
    assert back["conversation"] == first["conversation"]
    opened = started(browser, key, visitor_token=back["token"], conversation=second["conversation"])
    assert opened["conversation"] == second["conversation"]
    assert token_verify(opened["token"]).conversation == second["conversation"]
    assert opened["ws_url"].startswith(f"ws://localhost:8000/ws/chat/{second['conversation']}/")


def identity(site, user_id):
    secret = site.identity_secret
    return {
        "id": user_id,
        "hash": hmac.new(secret.encode(), user_id.encode(), hashlib.sha256).hexdigest(),
    }


def test_an_identified_visitor_sees_the_same_list_on_another_device(shop, tenant_a):
    site, key = shop
    laptop = PlatformClient(HTTP_ORIGIN=ORIGIN, REMOTE_ADDR="2001:db8::a1")
    phone = PlatformClient(HTTP_ORIGIN=ORIGIN, REMOTE_ADDR="2001:db8::a2")
    user = identity(site, "user-42")
    first = started(laptop, key, user=user)
    say(tenant_a, first["conversation"], "from the laptop")
    second = started(laptop, key, visitor_token=first["token"], user=user, new_conversation=True)
    say(tenant_a, second["conversation"], "again from the laptop")

    elsewhere = started(phone, key, user=user)
    assert elsewhere["visitor_id"] == first["visitor_id"]
    rows = listed(phone, key, elsewhere["token"]).json()["conversations"]
    assert [row["id"] for row in rows] == [second["conversation"], first["conversation"]]
    opened = started(
        phone, key, visitor_token=elsewhere["token"], user=user, conversation=first["conversation"]
    )
    assert opened["conversation"] == first["conversation"]


def test_nobody_opens_another_visitors_site_or_tenants_conversation(
    browser, shop, tenant_a, tenant_b, on_plan
):
    on_plan(tenant_a, "pro")  # room for a second site
    _, key = shop
    mine = started(browser, key)
    theirs = started(PlatformClient(HTTP_ORIGIN=ORIGIN, REMOTE_ADDR="2001:db8::b1"), key)
    say(tenant_a, theirs["conversation"], "secret of another visitor")
    _, other_site_key = a_site(tenant_a, name="Blog")
    other_site = started(browser, other_site_key)
    _, other_tenant_key = a_site(tenant_b)
    other_tenant = started(browser, other_tenant_key)

    for room in (
        theirs["conversation"],
        other_site["conversation"],
        other_tenant["conversation"],
        "cv_neverexisted",
    ):
        refused = session(browser, key, visitor_token=mine["token"], conversation=room)
        assert refused.status_code == 404, (room, refused.content)
        assert error_code(refused) == "not_found"
    # Without a token the session is a new visitor, who has no conversation to open.
    refused = session(browser, key, conversation=theirs["conversation"])
    assert error_code(refused) == "not_found"
    # Another site's or tenant's token never lists anything here.
    for token in (other_site["token"], other_tenant["token"]):
        answer = listed(browser, key, token)
        assert answer.status_code == 401
        assert error_code(answer) == "invalid_token"
    with schema_context(tenant_a.schema_name):
        assert Message.objects.filter(conversation__room=theirs["conversation"]).count() == 1


def test_every_bad_request_gets_its_documented_code(browser, shop):
    _, key = shop
    first = started(browser, key)
    cases = [
        ({"conversation": "lobby"}, 400, "bad_request"),  # a public room name is no conversation
        ({"conversation": "cv_" + "a" * 62}, 400, "bad_request"),
        ({"conversation": 12}, 400, "bad_request"),
        ({"new_conversation": "yes"}, 400, "bad_request"),
        ({"conversation": first["conversation"], "new_conversation": True}, 400, "bad_request"),
    ]
    for extra, status, code in cases:
        refused = session(browser, key, visitor_token=first["token"], **extra)
        assert refused.status_code == status, (extra, refused.content)
        assert error_code(refused) == code
    list_cases = [
        ({}, 401, "invalid_token"),  # no Authorization
        ({"HTTP_AUTHORIZATION": "Basic abc"}, 401, "invalid_token"),
        ({"HTTP_AUTHORIZATION": "Bearer not-a-token"}, 401, "invalid_token"),
    ]
    for headers, status, code in list_cases:
        refused = browser.get(LIST, {"site_key": key}, **headers)
        assert refused.status_code == status, (headers, refused.content)
        assert error_code(refused) == code
    unknown = listed(browser, "pk_unknown", first["token"])
    assert (unknown.status_code, error_code(unknown)) == (404, "unknown_site_key")
    elsewhere = PlatformClient(HTTP_ORIGIN="https://evil.example")
    refused = listed(elsewhere, key, first["token"])
    assert (refused.status_code, error_code(refused)) == (403, "origin_not_allowed")
    assert "Access-Control-Allow-Origin" not in refused


def test_a_visitor_starts_a_bounded_number_of_new_conversations(browser, shop, tenant_a, settings):
    settings.BUDGET_VISITOR_CONVERSATIONS = 2
    _, key = shop
    current = started(browser, key)
    for n in range(2):
        say(tenant_a, current["conversation"], f"message {n}")
        current = started(browser, key, visitor_token=current["token"], new_conversation=True)
    say(tenant_a, current["conversation"], "one more")
    refused = session(browser, key, visitor_token=current["token"], new_conversation=True)
    assert refused.status_code == 429
    assert error_code(refused) == "rate_limited"
    assert refused.json()["error"]["retry_after"] >= 1
    # The visitor still reopens their own, and another visitor of the address goes on.
    assert (
        started(browser, key, visitor_token=current["token"])["conversation"]
        == current["conversation"]
    )
    neighbour = started(browser, key)
    say(tenant_a, neighbour["conversation"], "hi")
    assert started(browser, key, visitor_token=neighbour["token"], new_conversation=True)


def test_an_address_starts_a_bounded_number_of_new_conversations(browser, shop, tenant_a, settings):
    settings.BUDGET_ADDRESS_CONVERSATIONS = 3
    _, key = shop
    for _ in range(3):
        visitor = started(browser, key)
        say(tenant_a, visitor["conversation"], "hello")
        started(browser, key, visitor_token=visitor["token"], new_conversation=True)
    visitor = started(browser, key)
    say(tenant_a, visitor["conversation"], "hello")
    refused = session(browser, key, visitor_token=visitor["token"], new_conversation=True)
    assert (refused.status_code, error_code(refused)) == (429, "rate_limited")


def test_the_dashboards_visitor_panel_lists_every_conversation_where_something_was_said(
    browser, shop, tenant_a
):
    _, key = shop
    first = started(browser, key)
    say(tenant_a, first["conversation"], "one")
    second = started(browser, key, visitor_token=first["token"], new_conversation=True)
    say(tenant_a, second["conversation"], "two")
    third = started(browser, key, visitor_token=second["token"], new_conversation=True)
    say(tenant_a, third["conversation"], "three")
    started(browser, key, visitor_token=third["token"], new_conversation=True)  # empty: none
    with schema_context(tenant_a.schema_name):
        current = Conversation.objects.get(room=third["conversation"])
        others = visitor_other_conversations(conversation=current)
        assert [c.room for c in others] == [second["conversation"], first["conversation"]]
        assert Visitor.objects.count() == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("fresh_sockets")
async def test_the_socket_admits_the_chosen_conversation_and_refuses_the_others(shop, tenant_a):
    site, key = shop
    fixture = SiteFixture(tenant=tenant_a, site=site, key=key, origin=ORIGIN)
    browser = PlatformClient(HTTP_ORIGIN=ORIGIN, REMOTE_ADDR="2001:db8::c1")
    first = await database_sync_to_async(started)(browser, key)
    await database_sync_to_async(say)(tenant_a, first["conversation"], "one")
    second = await database_sync_to_async(started)(
        browser, key, visitor_token=first["token"], new_conversation=True
    )
    for room, token, close in (
        (second["conversation"], second["token"], None),
        (first["conversation"], second["token"], 4403),  # its own, but not the token's room
    ):
        socket = chat_socket(fixture, room)
        connected, _ = await socket.connect()
        assert connected
        await socket.send_json_to({"type": "auth", "token": token})
        if close is None:
            ready = await expect(socket, lambda frame: frame["type"] == "ready")
            assert ready["room"] == room
            assert ready["messages"] == []
            await socket.disconnect()
        else:
            assert await closed_with(socket) == close


def test_uploads_and_ratings_follow_the_conversation_the_session_opened(
    browser, shop, tenant_a, attachment_storage
):
    _, key = shop
    first = started(browser, key)
    say(tenant_a, first["conversation"], "Broken zip")
    second = started(browser, key, visitor_token=first["token"], new_conversation=True)

    def upload(token):
        file = io.BytesIO(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
        file.name = "invoice.pdf"
        answer = browser.post(
            f"/api/widget/v1/attachments?site_key={key}",
            data={"file": file},
            HTTP_AUTHORIZATION=f"Bearer {token}",
        )
        assert answer.status_code == 201, answer.content
        return answer.json()["id"]

    into_second = upload(second["token"])
    with schema_context(tenant_a.schema_name):
        Conversation.objects.filter(room=first["conversation"]).update(
            status=Conversation.Status.CLOSED
        )
    # Back in the first (closed) conversation: its token rates it, the second stays unrated.
    back = started(browser, key, visitor_token=second["token"], conversation=first["conversation"])
    into_first = upload(back["token"])
    with schema_context(tenant_a.schema_name):
        assert Attachment.objects.get(pk=into_second).conversation.room == second["conversation"]
        assert Attachment.objects.get(pk=into_first).conversation.room == first["conversation"]
    rated = browser.post_json(
        "/api/widget/v1/rating", {"site_key": key, "visitor_token": back["token"], "score": 5}
    )
    assert rated.status_code == 200, rated.content
    still_open = browser.post_json(
        "/api/widget/v1/rating", {"site_key": key, "visitor_token": second["token"], "score": 5}
    )
    assert (still_open.status_code, error_code(still_open)) == (409, "conflict")
    with schema_context(tenant_a.schema_name):
        assert Rating.objects.get().conversation.room == first["conversation"]
