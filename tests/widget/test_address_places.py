"""One address cannot take every concurrent-visitor place of a plan: twenty sockets from one
address with two visitor tokens used to hold all twenty places of a Free tenant, and its real
visitors were closed with 4402 (docs/SECURITY.md, finding 3)."""

import json

import pytest

from tests.support.factories import make_site, make_visitor
from tests.support.sockets import chat_socket, closed_with

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fresh_sockets")]

ATTACKER = "203.0.113.9"


@pytest.fixture
def site(tenant_a):
    return make_site(tenant_a, public_rooms=True)


@pytest.fixture
def tokens(site):
    """Two visitor tokens of the lobby, and a visitor of a room of its own."""
    return [make_visitor(site, room="lobby") for _ in range(2)], make_visitor(site)


async def authenticated(site, visitor, address: str):
    socket = chat_socket(site, visitor.room, address=address)
    connected, _ = await socket.connect()
    assert connected
    await socket.send_json_to({"type": "auth", "token": visitor.token})
    output = await socket.receive_output(timeout=5)
    if output["type"] == "websocket.send":
        return socket, json.loads(output["text"])
    return socket, output  # {"type": "websocket.close", "code": ...}


async def test_one_address_holds_its_share_of_the_places_and_other_visitors_get_in(
    site, tokens, settings
):
    settings.ADDRESS_PLAN_SHARE = 0.25  # the production default: 5 of the Free plan's 20
    tokens, visitor = tokens
    sockets, answers = [], []
    for n in range(20):
        socket, answer = await authenticated(site, tokens[n % 2], ATTACKER)
        sockets.append(socket)
        answers.append(answer)
    ready = [answer for answer in answers if answer.get("type") == "ready"]
    assert len(ready) == 5
    refused = [answer for answer in answers if answer not in ready]
    assert {(answer["type"], answer["code"]) for answer in refused} == {("websocket.close", 4429)}

    # A real visitor from another address still gets a place.
    socket, answer = await authenticated(site, visitor, "198.51.100.7")
    assert answer["type"] == "ready"
    await socket.disconnect()

    # A place the address gives back can be taken again by it.
    await sockets[0].disconnect()
    again, answer = await authenticated(site, tokens[0], ATTACKER)
    assert answer["type"] == "ready"
    await again.disconnect()
    for socket in sockets[1:]:
        await socket.disconnect()


async def test_the_socket_past_the_share_is_told_to_retry_later(site, tokens, settings):
    settings.ADDRESS_PLAN_SHARE = 0.25
    settings.ADDRESS_PLAN_MIN_PLACES = 1
    visitor = tokens[0][0]
    held = []
    for _ in range(5):
        socket, answer = await authenticated(site, visitor, ATTACKER)
        assert answer["type"] == "ready"
        held.append(socket)
    refused = chat_socket(site, visitor.room, address=ATTACKER)
    await refused.connect()
    await refused.send_json_to({"type": "auth", "token": visitor.token})
    assert await closed_with(refused) == 4429
    for socket in held:
        await socket.disconnect()
