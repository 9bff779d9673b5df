"""In-process socket clients for consumer tests (Channels' WebsocketCommunicator)."""

import asyncio

import orjson
import pytest
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.conf import settings

from tests.support.factories import AgentFixture, SiteFixture, VisitorFixture
from widget.fanout.hub import hub
from widget.routing import websocket_urlpatterns
from widget.writer import writer

application = URLRouter(websocket_urlpatterns)


def chat_socket(
    site: SiteFixture,
    room: str,
    *,
    origin: str | None = None,
    key: str | None = None,
    address: str = "127.0.0.1",
):
    path = f"/ws/chat/{room}/?site_key={key or site.key}"
    socket = WebsocketCommunicator(
        application, path, headers=[(b"origin", (origin or site.origin).encode())]
    )
    socket.scope["client"] = (address, 50000)
    return socket


async def joined(site: SiteFixture, visitor: VisitorFixture, **auth) -> WebsocketCommunicator:
    """A chat socket of the visitor in its room, authenticated, its `ready` frame read."""
    socket = chat_socket(site, visitor.room)
    connected, _ = await socket.connect()
    assert connected
    await socket.send_json_to({"type": "auth", "token": visitor.token, **auth})
    ready = await socket.receive_json_from(timeout=5)
    assert ready["type"] == "ready", ready
    socket.ready = ready
    return socket


def agent_socket(agent: AgentFixture, *, origin: str | None = None, cookie: bool = True):
    headers = [
        (b"host", agent.host.encode()),
        (b"origin", (origin or f"http://{agent.host}").encode()),
    ]
    if cookie:
        headers.append((b"cookie", f"{settings.SESSION_COOKIE_NAME}={agent.session_key}".encode()))
    return WebsocketCommunicator(application, "/ws/agent/", headers=headers)


async def agent_joined(agent: AgentFixture) -> WebsocketCommunicator:
    socket = agent_socket(agent)
    connected, _ = await socket.connect()
    assert connected
    ready = await socket.receive_json_from(timeout=5)
    assert ready["type"] == "ready", ready
    return socket


async def expect(socket, predicate, *, timeout: float = 5) -> dict:
    """The next frame matching `predicate`. Frames read on the way are kept for later calls, so
    a test can wait for frames in any order."""
    stash = socket.__dict__.setdefault("stash", [])
    for index, frame in enumerate(stash):
        if predicate(frame):
            return stash.pop(index)
    async with asyncio.timeout(timeout):
        while True:
            frame = await socket.receive_json_from(timeout=timeout)
            if predicate(frame):
                return frame
            stash.append(frame)


async def closed_with(socket, *, timeout: float = 5) -> int:
    """Wait for the server to close the socket; return the close code (frames are skipped)."""
    async with asyncio.timeout(timeout):
        while True:
            output = await socket.receive_output(timeout=timeout)
            if output["type"] == "websocket.close":
                return output.get("code", 1000)


class Listener:
    """A stand-in socket registered with the fan-out (`hub.join`): it records what it is sent."""

    def __init__(self, name: str):
        self.member_id = name
        self.frames: list[dict] = []

    async def push(self, text: str, message_id: int, frame_type: str) -> None:
        self.frames.append(orjson.loads(text))

    async def close_from_server(self, code: int) -> None:
        raise AssertionError("a listener is never closed by the server")

    async def next_frame(self, of_type: str | None = None, timeout: float = 5) -> dict:
        """The first frame received (of `of_type`, when given), waiting for it if need be."""
        async with asyncio.timeout(timeout):
            while True:
                for index, frame in enumerate(self.frames):
                    if of_type is None or frame["type"] == of_type:
                        return self.frames.pop(index)
                await asyncio.sleep(0.01)


@pytest.fixture
async def fresh_sockets():
    """Stop this process's fan-out and message writer after the test (`stop_realtime`)."""
    yield
    await stop_realtime()


async def stop_realtime() -> None:
    """Stop this process's fan-out and message writer (their tasks live on the test's loop)."""
    await writer.aclose()
    await hub.aclose()


def of_type(kind: str, **fields):
    """A predicate for `expect`: a frame of this type whose named fields have these values."""
    return lambda frame: frame["type"] == kind and all(frame.get(k) == v for k, v in fields.items())
