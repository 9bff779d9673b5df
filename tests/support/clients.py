"""Real WebSocket clients (the `websockets` library) for end-to-end tests against daphne.

`ChatMember` behaves like the widget: it resumes with `since` after a reconnect and resends
unacknowledged messages with their original `client_id`. It counts every message id it is
shown, so a test can check each was seen exactly once.
"""

import asyncio
import json
from collections import Counter

import websockets

from tests.support.factories import AgentFixture, SiteFixture, VisitorFixture


def unseen_in_ready(ready: dict, seen: Counter, since: int | None) -> list[dict]:
    """The messages of a `ready` to count. A resume repeats the seconds up to `since` (PROTOCOL.md,
    Decisions); like the widget, a client skips those it was shown. Any other repeat still counts,
    so a message the server sends twice is caught."""
    return [
        message
        for message in ready["messages"]
        if not (since and message["id"] <= since and message["id"] in seen)
    ]


class Member:
    def __init__(self, name: str):
        self.name = name
        self.seen: Counter[int] = Counter()
        self.texts: dict[int, str] = {}
        self.last_id = 0
        self.socket = None
        self.reader: asyncio.Task | None = None
        self.acks: dict[str, int] = {}
        self.unacked: dict[str, dict] = {}
        self.acked = asyncio.Event()

    def record(self, message: dict) -> None:
        self.seen[message["id"]] += 1
        self.texts[message["id"]] = message["text"]
        self.last_id = max(self.last_id, message["id"])

    async def _read(self) -> None:
        try:
            async for raw in self.socket:
                frame = json.loads(raw)
                if frame["type"] == "message":
                    self.record(frame)
                elif frame["type"] == "ack":
                    self.acks[frame["client_id"]] = frame["id"]
                    self.unacked.pop(frame["client_id"], None)
                    self.acked.set()
        except websockets.ConnectionClosed:
            pass

    async def send_message(self, client_id: str, text: str, **extra) -> None:
        frame = {"type": "message", "client_id": client_id, "text": text, **extra}
        self.unacked[client_id] = frame
        await self.socket.send(json.dumps(frame))

    async def wait_acked(self, timeout: float = 10) -> None:
        async with asyncio.timeout(timeout):
            while self.unacked:
                self.acked.clear()
                await self.acked.wait()

    async def wait_seen(self, message_ids, timeout: float = 10) -> None:
        async with asyncio.timeout(timeout):
            while not set(message_ids) <= set(self.seen):
                await asyncio.sleep(0.02)

    async def close(self) -> None:
        if self.socket is not None:
            await self.socket.close()
        if self.reader is not None:
            await self.reader


class ChatMember(Member):
    def __init__(self, name: str, site: SiteFixture, visitor: VisitorFixture):
        super().__init__(name)
        self.site = site
        self.visitor = visitor

    async def connect(self, port: int) -> dict:
        """Connect (or reconnect) to the worker on `port`, resume, resend what was not acked."""
        url = f"ws://127.0.0.1:{port}/ws/chat/{self.visitor.room}/?site_key={self.site.key}"
        self.socket = await websockets.connect(url, origin=self.site.origin, open_timeout=20)
        auth = {"type": "auth", "token": self.visitor.token}
        if self.last_id:
            auth["since"] = self.last_id
        await self.socket.send(json.dumps(auth))
        ready = json.loads(await asyncio.wait_for(self.socket.recv(), timeout=20))
        assert ready["type"] == "ready", ready
        for message in unseen_in_ready(ready, self.seen, auth.get("since")):
            self.record(message)
        self.reader = asyncio.create_task(self._read())
        for frame in list(self.unacked.values()):
            await self.socket.send(json.dumps(frame))
        return ready


class AgentMember(Member):
    def __init__(self, name: str, agent: AgentFixture):
        super().__init__(name)
        self.agent = agent

    async def connect(self, port: int) -> None:
        host = f"{self.agent.host}:{port}"
        self.socket = await websockets.connect(
            f"ws://{host}/ws/agent/",
            host="127.0.0.1",
            port=port,
            origin=f"http://{host}",
            additional_headers={"Cookie": f"sessionid={self.agent.session_key}"},
            open_timeout=20,
        )
        ready = json.loads(await asyncio.wait_for(self.socket.recv(), timeout=20))
        assert ready["type"] == "ready", ready
        self.reader = asyncio.create_task(self._read())
