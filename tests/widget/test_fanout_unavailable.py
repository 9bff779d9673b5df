"""A socket that authenticates while its worker has no Redis subscription is closed with 1011
(a warning, no traceback): it must not read the room and then miss what other workers publish."""

import asyncio

import pytest

from tests.support.factories import make_site, make_visitor
from tests.support.sockets import chat_socket, closed_with
from widget.fanout.transport import FanoutUnavailable, LocalTransport

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fresh_sockets")]


@pytest.fixture
def site(tenant_a):
    return make_site(tenant_a)


@pytest.fixture
def visitor(site):
    return make_visitor(site)


async def test_auth_without_a_subscription_closes_1011(site, visitor, monkeypatch, caplog):
    async def no_subscription(self):
        raise FanoutUnavailable("no Redis subscription")

    monkeypatch.setattr(LocalTransport, "wait_live", no_subscription)
    socket = chat_socket(site, visitor.room)
    connected, _ = await socket.connect()
    assert connected
    await socket.send_json_to({"type": "auth", "token": visitor.token})
    assert await closed_with(socket) == 1011
    assert "no Redis subscription to join" in caplog.text
    assert "socket frame failed" not in caplog.text


async def test_a_socket_closed_by_the_auth_deadline_while_joining_is_no_member_of_any_group(
    site, visitor, monkeypatch, settings
):
    """The subscription is slow to come back (Redis reconnecting): `auth` waits in `join` past
    the auth deadline, the watchdog closes the socket and cleans it up, and then the join goes on.
    The transport's wait is replaced by an event the test sets: nothing else makes the wait
    last exactly past the deadline."""
    from widget.fanout.hub import hub

    settings.PARLEY_WS = {**settings.PARLEY_WS, "AUTH_TIMEOUT": 0.3}
    subscribed = asyncio.Event()

    async def slow_subscription(self):
        await subscribed.wait()

    monkeypatch.setattr(LocalTransport, "wait_live", slow_subscription)
    socket = chat_socket(site, visitor.room)
    connected, _ = await socket.connect()
    assert connected
    await socket.send_json_to({"type": "auth", "token": visitor.token})
    assert await closed_with(socket) == 4401
    subscribed.set()
    for _ in range(20):  # let the interrupted auth run to its end
        await asyncio.sleep(0.01)
    assert hub.registry.everyone() == set()
    await socket.wait()
