"""A visitor's chat socket that follows the widget's protocol on its own, for end-to-end tests
through a load balancer: it reconnects after a server close (1012 from a draining worker, 1006
from a dead one), resumes with `since`, and resends every unacknowledged message with its
original `client_id`. It counts every message id it is shown, so a test can check each was seen
exactly once; like the widget, it skips the ids a resume repeats from just before `since`.
"""

import asyncio
import contextlib
import json
from collections import Counter

import websockets

from tests.support.clients import unseen_in_ready

RECONNECT_DELAYS = (0.0, 0.1, 0.25, 0.5, 1.0)  # the widget's backoff, shortened for tests


class ChatClient:
    def __init__(self, *, url: str, origin: str, token: str, name: str = "client"):
        self.url = url  # ws://host:port/ws/chat/<room>/?site_key=…
        self.origin = origin
        self.token = token
        self.name = name
        self.seen: Counter[int] = Counter()
        self.last_id = 0
        self.acks: dict[str, int] = {}
        self.unacked: dict[str, dict] = {}
        self.close_codes: list[int | None] = []
        self.connections = 0
        self.ready = asyncio.Event()  # set while a socket is authenticated
        self._socket = None
        self._task: asyncio.Task | None = None
        self._stopping = False
        self._progress = asyncio.Event()  # set on every ack or message

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"chat-client-{self.name}")

    async def _run(self) -> None:
        failures = 0
        while not self._stopping:
            try:
                async with websockets.connect(
                    self.url, origin=self.origin, open_timeout=20, max_queue=None
                ) as socket:
                    await self._session(socket)
                    failures = 0
            except websockets.ConnectionClosed as closed:
                self.close_codes.append(closed.rcvd.code if closed.rcvd else None)
            except (OSError, TimeoutError, websockets.InvalidHandshake):
                failures += 1
            finally:
                self.ready.clear()
                self._socket = None
            if not self._stopping:
                await asyncio.sleep(RECONNECT_DELAYS[min(failures, len(RECONNECT_DELAYS) - 1)])

    async def _session(self, socket) -> None:
        auth = {"type": "auth", "token": self.token}
        if self.last_id:
            auth["since"] = self.last_id
        await socket.send(json.dumps(auth))
        ready = json.loads(await asyncio.wait_for(socket.recv(), timeout=20))
        if ready.get("type") != "ready":
            raise AssertionError(f"{self.name}: expected ready, got {ready}")
        self.connections += 1
        for message in unseen_in_ready(ready, self.seen, auth.get("since")):
            self._record(message)
        self._socket = socket
        self.ready.set()
        for frame in list(self.unacked.values()):
            await socket.send(json.dumps(frame))
        async for raw in socket:
            frame = json.loads(raw)
            if frame["type"] == "message":
                self._record(frame)
            elif frame["type"] == "ack":
                self.acks[frame["client_id"]] = frame["id"]
                self.unacked.pop(frame["client_id"], None)
                self._progress.set()
        self.close_codes.append(socket.close_code)

    def _record(self, message: dict) -> None:
        self.seen[message["id"]] += 1
        self.last_id = max(self.last_id, message["id"])
        self._progress.set()

    async def send_message(self, client_id: str, text: str) -> None:
        """Send now if connected; in any case resent on every reconnect until acknowledged."""
        frame = {"type": "message", "client_id": client_id, "text": text}
        self.unacked[client_id] = frame
        socket = self._socket
        if socket is not None:
            with contextlib.suppress(websockets.ConnectionClosed):  # resent on reconnect
                await socket.send(json.dumps(frame))

    async def _until(self, done, timeout: float) -> None:
        async with asyncio.timeout(timeout):
            while not done():
                self._progress.clear()
                await self._progress.wait()

    async def wait_ready(self, timeout: float = 20) -> None:
        async with asyncio.timeout(timeout):
            await self.ready.wait()

    async def wait_acked(self, timeout: float = 20) -> None:
        await self._until(lambda: not self.unacked, timeout)

    async def wait_seen(self, message_ids, timeout: float = 20) -> None:
        wanted = set(message_ids)
        await self._until(lambda: wanted <= self.seen.keys(), timeout)

    async def stop(self) -> None:
        self._stopping = True
        if self._socket is not None:
            await self._socket.close()
        if self._task is not None:
            await self._task
