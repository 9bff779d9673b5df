"""Visitors' message budgets (widget.budgets): anyone holding the public site key used up a Free
tenant's 1,000 monthly messages in 14 s from one address, and then the tenant's visitors, agents
and API were all refused. Now one address spends at most its share of the month, one visitor at
most its budget per window, and everyone else goes on."""

import uuid

import pytest
from channels.db import database_sync_to_async
from django_tenants.utils import schema_context

from tests.support.factories import make_site, make_visitor
from tests.support.sockets import chat_socket, expect
from widget.models import Message

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fresh_sockets")]


def an_address() -> str:
    """An address of its own for each test: the budgets outlive a test in process memory."""
    return f"2001:db8::{uuid.uuid4().hex[:4]}"


@pytest.fixture
def site(tenant_a):
    return make_site(tenant_a, public_rooms=True)


@pytest.fixture
def visitors(site):
    return [make_visitor(site, room="lobby") for _ in range(6)]


@pytest.fixture
def production_budgets(settings):
    settings.BUDGET_VISITOR_MESSAGES = 60
    settings.BUDGET_ADDRESS_MESSAGES = 300
    settings.BUDGET_ADDRESS_MONTH_SHARE = 0.1


async def joined_from(site, visitor, address: str):
    socket = chat_socket(site, visitor.room, address=address)
    connected, _ = await socket.connect()
    assert connected
    await socket.send_json_to({"type": "auth", "token": visitor.token})
    await expect(socket, lambda frame: frame["type"] == "ready")
    return socket


async def send(socket, client_id: str) -> dict:
    """Send a message; its answer: the ack, or the error frame naming it."""
    await socket.send_json_to({"type": "message", "client_id": client_id, "text": client_id})
    return await expect(
        socket,
        lambda frame: frame["type"] in ("ack", "error") and frame.get("client_id") == client_id,
    )


def stored(site) -> int:
    with schema_context(site.tenant.schema_name):
        return Message.objects.count()


async def test_one_address_spends_a_tenth_of_a_free_month_and_another_address_goes_on(
    site, visitors, production_budgets
):
    attacker = an_address()
    answers = []
    for number, visitor in enumerate(visitors[:5]):  # five visitor tokens, 25 messages each
        socket = await joined_from(site, visitor, attacker)
        answers += [await send(socket, f"v{number}-{n}") for n in range(25)]
        await socket.disconnect()
    acked = [answer for answer in answers if answer["type"] == "ack"]
    refused = [answer for answer in answers if answer["type"] == "error"]
    assert len(acked) == 100  # 10% of the Free plan's 1,000
    assert {answer["code"] for answer in refused} == {"rate_limited"}
    assert all(answer["retry_after"] >= 1 for answer in refused)

    someone_else = await joined_from(site, visitors[5], an_address())
    assert (await send(someone_else, "real"))["type"] == "ack"
    await someone_else.disconnect()
    assert await database_sync_to_async(stored)(site) == 101


async def test_a_visitor_past_its_budget_waits_and_its_neighbour_does_not(site, visitors, settings):
    settings.BUDGET_VISITOR_MESSAGES = 5
    address = an_address()
    chatty = await joined_from(site, visitors[0], address)
    answers = [await send(chatty, f"c{n}") for n in range(6)]
    assert [answer["type"] for answer in answers] == ["ack"] * 5 + ["error"]
    refused = answers[-1]
    assert refused["code"] == "rate_limited"
    assert 1 <= refused["retry_after"] <= settings.BUDGET_VISITOR_WINDOW
    neighbour = await joined_from(site, visitors[1], address)  # same address, another visitor
    assert (await send(neighbour, "n0"))["type"] == "ack"
    await chatty.disconnect()
    await neighbour.disconnect()
