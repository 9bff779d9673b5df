"""The drain of a stopping worker (core/drain.py): the stages run in order within the time
given, and a draining worker refuses new sockets and is not ready."""

import asyncio

import pytest
from channels.testing import WebsocketCommunicator

from config.asgi import application
from core import drain, metrics


class Recorder:
    def __init__(self, name: str, log: list, *, hang: bool = False):
        self.name = name
        self.log = log
        self.hang = hang

    async def drain(self, close_code: int) -> None:
        self.log.append((self.name, close_code))
        if self.hang:
            await asyncio.sleep(3600)


@pytest.fixture
def fresh_drain(monkeypatch):
    monkeypatch.setattr(drain, "_stages", {})
    monkeypatch.setattr(drain, "_draining", False)


async def test_writes_are_stored_before_and_after_the_sockets_close(fresh_drain):
    log: list = []
    drain.register(Recorder("sockets", log), stage=drain.SOCKETS)
    writer = Recorder("writes", log)
    drain.register(writer, stage=drain.WRITES)
    drain.register(writer, stage=drain.WRITES)  # idempotent
    await drain.drain_all(timeout=5)
    assert log == [("writes", 1012), ("sockets", 1012), ("writes", 1012)]
    assert drain.is_draining()


async def test_a_stuck_drainable_does_not_hold_the_worker_past_the_drain_time(fresh_drain):
    log: list = []
    drain.register(Recorder("writes", log, hang=True), stage=drain.WRITES)
    drain.register(Recorder("sockets", log), stage=drain.SOCKETS)
    loop = asyncio.get_running_loop()
    started = loop.time()
    await drain.drain_all(timeout=0.3)
    # The writes get the drain time (at least a second); the sockets are closed all the same.
    assert loop.time() - started < 3.5
    assert log[:2] == [("writes", 1012), ("sockets", 1012)]


@pytest.mark.django_db
async def test_a_draining_worker_refuses_sockets_and_is_not_ready(fresh_drain, client):
    drain._draining = True
    refused = metrics.HANDSHAKES_REFUSED.labels("draining")
    before = refused._value.get()
    socket = WebsocketCommunicator(application, "/ws/chat/lobby/?site_key=pk_any")
    connected, _ = await socket.connect()
    assert connected is False
    assert refused._value.get() == before + 1
    response = await asyncio.to_thread(client.get, "/readyz")
    assert response.status_code == 503
    assert "worker" in response.json()["failing"]
