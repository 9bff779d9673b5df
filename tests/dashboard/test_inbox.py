"""The inbox: the tenant's conversations only, with their last message and unread count; replies
stored and published live; close, reopen and assign change state and tell the agents."""

import asyncio
import hashlib

import pytest
from asgiref.sync import sync_to_async
from django_tenants.utils import tenant_context

from accounts.models import Role
from tenants.services import site_create
from tests.support.factories import visitor_conversation
from tests.support.sockets import Listener, stop_realtime
from widget import assets, events
from widget.fanout.hub import hub
from widget.models import Conversation, Message

pytestmark = pytest.mark.django_db


def conversation_with_messages(tenant, *, room: str, visitor_name: str, texts: list[tuple]):
    """A visitor's conversation in `tenant` with messages given as (author_kind, text)."""
    return visitor_conversation(
        tenant,
        room=room,
        texts=tuple(texts),
        name=visitor_name,
        email=f"{visitor_name.lower()}@customer.test",
        external_id="user-77",
        page_url="https://shop.example/pricing",
    )


@pytest.fixture
def vera(tenant_a) -> Conversation:
    conversation = conversation_with_messages(
        tenant_a,
        room="cv_vera",
        visitor_name="Vera",
        texts=[("visitor", "Hello?"), ("agent", "Hi Vera"), ("visitor", "Is shipping free?")],
    )
    with tenant_context(tenant_a):
        first = conversation.messages.order_by("id").first()
        Conversation.objects.filter(pk=conversation.pk).update(agent_read_up_to=first.id)
    return conversation


def test_the_inbox_lists_this_tenants_conversations_only(
    tenant_a, tenant_b, agent, vera, tenant_client
):
    conversation_with_messages(
        tenant_b, room="cv_bob", visitor_name="Bob", texts=[("visitor", "Beta secret")]
    )
    page = tenant_client(tenant_a, agent).get("/").content.decode()
    assert "Vera" in page
    assert "Is shipping free?" in page  # the last message
    assert 'data-count="1"' in page  # one visitor message after what the agents read
    assert "Open" in page
    assert "Unassigned" in page
    assert "Bob" not in page
    assert "Beta secret" not in page


def test_the_inbox_views_by_status_assignee_and_site(tenant_a, agent, vera, tenant_client):
    shop = site_create(tenant=tenant_a, name="Shop", allowed_origins=["https://shop.example"])
    quiet = conversation_with_messages(
        tenant_a, room="cv_quiet", visitor_name="Quinn", texts=[("visitor", "bye")]
    )
    ursula = conversation_with_messages(
        tenant_a, room="cv_ursula", visitor_name="Ursula", texts=[("visitor", "hi")]
    )
    with tenant_context(tenant_a):
        Conversation.objects.filter(pk=quiet.pk).update(status="closed", site_id=shop.pk)
        Conversation.objects.filter(pk=ursula.pk).update(site_id=shop.pk)
        # Vera's conversation is on another site than the shop, whatever id the shop got.
        Conversation.objects.filter(pk=vera.pk).update(assignee=agent, site_id=shop.pk + 1)
    client = tenant_client(tenant_a, agent)

    closed = client.get("/", {"view": "closed"}).content.decode()
    assert "Quinn" in closed
    assert "Vera" not in closed
    mine = client.get("/", {"view": "mine"}).content.decode()
    assert "Vera" in mine
    assert "Quinn" not in mine
    assert "Ursula" not in mine
    unassigned = client.get("/", {"view": "unassigned"}).content.decode()
    assert "Ursula" in unassigned
    assert "Vera" not in unassigned
    assert "Quinn" not in unassigned
    on_shop = client.get("/", {"view": "open", "site": shop.pk}).content.decode()
    assert "Ursula" in on_shop
    assert "Vera" not in on_shop


def test_a_conversation_shows_its_history_and_visitor_and_marks_it_read(
    tenant_a, agent, vera, tenant_client
):
    client = tenant_client(tenant_a, agent)
    page = client.get(f"/conversations/{vera.pk}/").content.decode()
    for text in ("Hello?", "Hi Vera", "Is shipping free?"):
        assert text in page
    assert "vera@customer.test" in page
    assert "Verified user user-77" in page
    assert "https://shop.example/pricing" in page
    assert 'id="visitor-details"' in page
    with tenant_context(tenant_a):
        last = vera.messages.order_by("-id").first()
        assert Conversation.objects.get(pk=vera.pk).agent_read_up_to == last.id
    assert 'data-count="0"' in client.get("/").content.decode()


def test_message_text_is_escaped(tenant_a, agent, tenant_client):
    hostile = conversation_with_messages(
        tenant_a,
        room="cv_xss",
        visitor_name="Mallory",
        texts=[("visitor", "<script>alert(1)</script><img src=x onerror=alert(2)>")],
    )
    client = tenant_client(tenant_a, agent)
    for page in (client.get("/"), client.get(f"/conversations/{hostile.pk}/")):
        body = page.content.decode()
        assert "<script>alert(1)" not in body
        assert "<img src=x" not in body
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body


@pytest.fixture
def markdown_build(tmp_path, monkeypatch):
    """A build folder for the widget's message formatting, read afresh."""
    monkeypatch.setattr(assets, "BUILD_DIR", tmp_path)
    assets.markdown_asset.cache_clear()
    yield tmp_path
    assets.markdown_asset.cache_clear()


def test_message_text_is_served_raw_for_the_widgets_formatting_script(
    tenant_a, agent, tenant_client, markdown_build
):
    """The page carries the text as stored (its fallback without scripts); the widget's build of
    its formatting, loaded before inbox.js under its content hash, formats it as the widget does.
    Without that build the page still works, in plain text."""
    formatted = conversation_with_messages(
        tenant_a,
        room="cv_markdown",
        visitor_name="Mia",
        texts=[("visitor", "**Free** shipping over `$50`? https://shop.example/a_b")],
    )
    script = b"(()=>{window.ParleyMarkdown={}})();\n"
    (markdown_build / "markdown.js").write_bytes(script)
    client = tenant_client(tenant_a, agent)
    body = client.get(f"/conversations/{formatted.pk}/").content.decode()
    assert '<div class="text">**Free** shipping over `$50`? https://shop.example/a_b</div>' in body
    version = hashlib.sha256(script).hexdigest()[:20]
    markdown = body.index(f'<script src="/widget/markdown/{version}.js" defer></script>')
    assert markdown < body.index('<script src="/static/dashboard/inbox.js" defer></script>')
    assert client.get(f"/widget/markdown/{version}.js").content == script

    (markdown_build / "markdown.js").unlink()
    assets.markdown_asset.cache_clear()
    body = client.get(f"/conversations/{formatted.pk}/").content.decode()
    assert "/widget/markdown/" not in body
    assert "**Free** shipping over" in body


@pytest.mark.django_db(transaction=True)
async def test_a_reply_by_form_is_stored_once_and_published_live(
    tenant_a, agent, vera, tenant_client
):
    visitor_socket, agent_socket = Listener("visitor"), Listener("agent")
    await hub.join(events.room_group(tenant_a.id, vera.site_id, "cv_vera"), visitor_socket)
    await hub.join(events.agents_group(tenant_a.id), agent_socket)
    client = await sync_to_async(tenant_client)(tenant_a, agent)
    reply = {"text": "  Yes, over $50.  ", "client_id": "6a1e0c1e-0000-4000-8000-000000000001"}
    try:
        response = await sync_to_async(client.post)(f"/conversations/{vera.pk}/reply/", reply)
        again = await sync_to_async(client.post)(f"/conversations/{vera.pk}/reply/", reply)
        assert response.status_code == again.status_code == 302  # the second: a double submit

        def stored_replies():
            with tenant_context(tenant_a):
                stored = Message.objects.filter(conversation=vera, author_kind="agent")
                return list(stored.order_by("-id").values("text", "author_id", "client_id"))

        stored = await sync_to_async(stored_replies)()
        assert stored[0] == {
            "text": "Yes, over $50.",
            "author_id": str(agent.pk),
            "client_id": reply["client_id"],
        }
        assert [row["client_id"] for row in stored].count(reply["client_id"]) == 1

        to_visitor = await visitor_socket.next_frame("message")
        assert to_visitor["text"] == "Yes, over $50."
        assert to_visitor["author"] == {"kind": "agent", "id": str(agent.pk), "name": "agent"}
        to_agents = await agent_socket.next_frame("message")
        assert to_agents["conversation"] == "cv_vera"
        assert to_agents["client_id"] == reply["client_id"]
        await asyncio.sleep(0.2)
        assert not [f for f in visitor_socket.frames if f["type"] == "message"]  # once only
    finally:
        await stop_realtime()


def test_an_empty_reply_is_refused(tenant_a, agent, vera, tenant_client):
    client = tenant_client(tenant_a, agent)
    response = client.post(
        f"/conversations/{vera.pk}/reply/", {"text": "   ", "client_id": "c-1"}, follow=True
    )
    assert "Write a reply first." in response.content.decode()
    with tenant_context(tenant_a):
        assert vera.messages.count() == 3


@pytest.mark.django_db(transaction=True)
async def test_close_reopen_and_assign_change_state_and_tell_the_agents(
    tenant_a, agent, make_member, vera, tenant_client
):
    colleague = await sync_to_async(make_member)(tenant_a, "colleague@alpha.test", Role.ADMIN)
    agent_socket = Listener("agent")
    await hub.join(events.agents_group(tenant_a.id), agent_socket)
    client = await sync_to_async(tenant_client)(tenant_a, agent)
    post = sync_to_async(client.post)
    try:
        await post(f"/conversations/{vera.pk}/close/")
        closed = await agent_socket.next_frame("conversation")
        assert closed["event"] == "closed"
        assert closed["conversation"]["id"] == "cv_vera"  # named by room, as agent frames are
        assert closed["conversation"]["status"] == "closed"
        assert closed["conversation"]["visitor"]["name"] == "Vera"

        await post(f"/conversations/{vera.pk}/reopen/")
        reopened = await agent_socket.next_frame("conversation")
        assert (reopened["event"], reopened["conversation"]["status"]) == ("updated", "open")

        await post(f"/conversations/{vera.pk}/assign/", {"assignee": colleague.pk})
        assigned = await agent_socket.next_frame("conversation")
        assert assigned["event"] == "updated"
        assert assigned["conversation"]["assignee"] == colleague.pk

        await post(f"/conversations/{vera.pk}/assign/", {"assignee": ""})
        unassigned = await agent_socket.next_frame("conversation")
        assert unassigned["conversation"]["assignee"] is None
    finally:
        await stop_realtime()

    def final_state():
        with tenant_context(tenant_a):
            final = Conversation.objects.get(pk=vera.pk)
            return final.status, final.assignee_id

    assert await sync_to_async(final_state)() == ("open", None)


def test_a_conversation_of_another_tenant_is_not_found(tenant_a, tenant_b, agent, tenant_client):
    other = conversation_with_messages(
        tenant_b, room="cv_other", visitor_name="Olga", texts=[("visitor", "hi")]
    )
    client = tenant_client(tenant_a, agent)
    with tenant_context(tenant_a):
        assert not Conversation.objects.filter(pk=other.pk).exists()
    assert client.get(f"/conversations/{other.pk}/").status_code == 404
    assert client.post(f"/conversations/{other.pk}/close/").status_code == 404
    with tenant_context(tenant_b):
        assert Conversation.objects.get(pk=other.pk).status == "open"
