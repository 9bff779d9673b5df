"""A socket that authenticates while its worker has no Redis subscription is closed with 1011
(a warning, no traceback): it must not read the room and then miss what other workers publish."""

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
