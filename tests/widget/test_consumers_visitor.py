"""The chat socket's visitor features (PROTOCOL.md): read marks in `ready`, the `context` frame
and the agents' `visitor` frame, and the typing preview, only where the site enables it."""

import pytest
from channels.db import database_sync_to_async
from django_tenants.utils import schema_context

from tenants.models import Site
from tenants.site_directory import site_cache_clear
from tests.support.factories import make_site, make_visitor
from tests.support.sockets import agent_joined, expect, joined, of_type
from widget.models import Conversation, Visitor
from widget.services.conversations import conversation_close

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fresh_sockets")]


@pytest.fixture
def site(tenant_a):
    return make_site(tenant_a, public_rooms=True)


@pytest.fixture
def visitor(site):
    return make_visitor(site, name="Greta")


async def no_frame(socket, predicate, *, timeout: float = 1.0) -> bool:
    try:
        await expect(socket, predicate, timeout=timeout)
    except TimeoutError:
        return True
    return False


@database_sync_to_async
def _set_marks(site, room: str, *, visitor_up_to: int, agent_up_to: int) -> None:
    with schema_context(site.tenant.schema_name):
        Conversation.objects.filter(room=room).update(
            visitor_read_up_to=visitor_up_to, agent_read_up_to=agent_up_to
        )


@database_sync_to_async
def _visitor(site, visitor_id: str) -> Visitor:
    with schema_context(site.tenant.schema_name):
        return Visitor.objects.get(pk=visitor_id)


@database_sync_to_async
def _enable_preview(site, enabled: bool) -> None:
    Site.objects.filter(pk=site.site.id).update(typing_preview=enabled)
    site_cache_clear()


async def test_ready_carries_how_far_each_side_has_read(site, visitor):
    await _set_marks(site, visitor.room, visitor_up_to=7, agent_up_to=12)
    socket = await joined(site, visitor)
    assert socket.ready["visitor_read_up_to"] == 7
    assert socket.ready["agent_read_up_to"] == 12
    await socket.disconnect()


async def test_a_context_frame_is_stored_and_told_to_the_agents(site, visitor, agent):
    agent_ws = await agent_joined(agent)
    visitor_ws = await joined(site, visitor)
    page = {"page_url": "https://shop.example.com/cart#step-2", "page_title": "Your cart"}
    await visitor_ws.send_json_to({"type": "context", **page})
    told = await expect(agent_ws, of_type("visitor", conversation=visitor.room))
    assert told["site_id"] == site.site.id
    assert told["visitor"]["id"] == visitor.visitor_id
    assert told["visitor"]["page_url"] == page["page_url"]
    assert told["visitor"]["page_title"] == "Your cart"
    stored = await _visitor(site, visitor.visitor_id)
    assert (stored.page_url, stored.page_title) == (page["page_url"], "Your cart")

    # The next page has no title: it shows none, not the cart's.
    await visitor_ws.send_json_to({"type": "context", "page_url": "https://shop.example.com/x"})
    told = await expect(agent_ws, of_type("visitor", conversation=visitor.room))
    assert (told["visitor"]["page_url"], told["visitor"]["page_title"]) == (
        "https://shop.example.com/x",
        "",
    )
    await visitor_ws.disconnect()
    await agent_ws.disconnect()


@pytest.mark.parametrize(
    "frame",
    [
        {"type": "context", "page_url": "javascript:alert(1)"},
        {"type": "context", "page_url": 5},
        {"type": "context", "page_url": "https://shop.example.com/", "page_title": "t" * 5000},
        {"type": "context", "page_title": "A page with no address"},
    ],
)
async def test_a_bad_context_frame_is_bad_request_and_stores_nothing(site, visitor, frame):
    socket = await joined(site, visitor)
    await socket.send_json_to(frame)
    error = await expect(socket, of_type("error"))
    assert error["code"] == "bad_request"
    assert (await _visitor(site, visitor.visitor_id)).page_url == ""
    await socket.disconnect()


LAST_PAGE = "https://shop.example.com/page-24"


async def test_context_frames_past_the_budget_wait_and_the_newest_page_is_stored(
    site, visitor, agent
):
    agent_ws = await agent_joined(agent)
    visitor_ws = await joined(site, visitor)
    for number in range(25):
        url = f"https://shop.example.com/page-{number}"
        await visitor_ws.send_json_to({"type": "context", "page_url": url})
    told = []
    while LAST_PAGE not in told:
        frame = await expect(agent_ws, of_type("visitor"), timeout=20)
        told.append(frame["visitor"]["page_url"])
    # The burst of 10 is stored at once (page-0..page-9); of the rest, what waited for the
    # bucket's next token (one per 2 s: on a slow machine the sending itself can earn one) is
    # only the newest page, and the agents are told of it.
    assert told[:10] == [f"https://shop.example.com/page-{number}" for number in range(10)]
    assert len(told) <= 13
    assert (await _visitor(site, visitor.visitor_id)).page_url == LAST_PAGE
    assert await no_frame(visitor_ws, of_type("error"), timeout=0.5)
    await visitor_ws.disconnect()
    await agent_ws.disconnect()


@pytest.fixture
def lobby(site):
    return make_visitor(site, name="Greta", room="lobby"), make_visitor(
        site, name="Other", room="lobby"
    )


async def test_the_draft_reaches_the_agents_only_where_the_site_enables_it(site, agent, lobby):
    greta, other = lobby
    agent_ws = await agent_joined(agent)
    greta_ws = await joined(site, greta)
    other_ws = await joined(site, other)

    # Not enabled: the frame is plain typing for everyone, the draft dropped.
    await greta_ws.send_json_to({"type": "typing", "state": True, "draft": "my card number"})
    plain = await expect(agent_ws, of_type("typing", conversation="lobby"))
    assert "draft" not in plain
    assert "draft" not in await expect(other_ws, of_type("typing"))

    await _enable_preview(site, True)
    await greta_ws.send_json_to({"type": "typing", "state": True, "draft": "x" * 600})
    preview = await expect(agent_ws, of_type("typing", conversation="lobby"))
    assert preview["draft"] == "x" * 500
    # Another visitor of the room sees that Greta types, never what.
    seen_by_other = await expect(other_ws, of_type("typing"))
    assert "draft" not in seen_by_other
    await greta_ws.send_json_to({"type": "typing", "state": False, "draft": "ignored"})
    stopped = await expect(agent_ws, of_type("typing", conversation="lobby"))
    assert stopped["state"] is False
    assert "draft" not in stopped
    for socket in (greta_ws, other_ws, agent_ws):
        await socket.disconnect()


@database_sync_to_async
def _close(site, room: str) -> None:
    with schema_context(site.tenant.schema_name):
        conversation = Conversation.objects.get(room=room)
        conversation_close(tenant_id=site.tenant.id, conversation=conversation)


async def test_closing_tells_the_visitor_and_ready_says_closed_after(site, visitor):
    socket = await joined(site, visitor)
    assert socket.ready["status"] == "open"
    await _close(site, visitor.room)
    assert await expect(socket, of_type("closed")) == {"type": "closed"}
    await socket.disconnect()
    again = await joined(site, visitor)
    assert again.ready["status"] == "closed"
    await again.disconnect()
