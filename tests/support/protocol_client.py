"""Real WebSocket clients (the `websockets` library) that speak Parley's wire protocol the way the
widget and the dashboard do, for end-to-end tests against real daphne workers.

`VisitorClient` is the widget on `ws/chat/<room>/`, `AgentClient` the dashboard on `ws/agent/`;
both share `ProtocolClient`'s bookkeeping. A client counts every message id it is shown (`seen`), so
a test can check each was seen exactly once. Like the widget it skips only the messages a resume
repeats from just before `since` (PROTOCOL.md, "A resume overlaps"): any other repeat is counted, so
a message the server sends twice is caught. It resends unacknowledged messages with their original
`client_id` after every `ready` and after a `rate_limited` refusal, and pings as the widget does.

Only an `ack` frame acknowledges a message (the widget also accepts its own `message` frame), so a
test sees every ack the server owes.

A test drives a client one connection at a time (`connect(port)`, `disconnected()`), or lets it keep
itself connected in the background (`start()`, `stop()`): it then reconnects after every close,
at once after 1001/1012/4408 from a socket that reached `ready`, else with the widget's backoff
(shortened for tests). `ClientThread` runs a client for tests whose own thread belongs to
Playwright's sync API.
"""

import asyncio
import contextlib
import json
import random
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

import websockets
from websockets.asyncio.client import ClientConnection

from tests.support.factories import AgentFixture, SiteFixture

OPEN_TIMEOUT = 30  # seconds for the handshake, and again for `ready`: hundreds connect at once
PING_INTERVAL = 25  # the widget's and the dashboard's keepalive
RECONNECT_AT_ONCE = {1001, 1012, 4408, 4410}
FIRST_BACKOFF, MAX_BACKOFF = 0.1, 1.0  # the widget's 0.5 s doubling to 30 s, shortened for tests
RATE_LIMITED_RETRY = 5  # seconds, when a `rate_limited` refusal names no `retry_after`


class UnexpectedFrame(Exception):
    """The server's first frame was not `ready`."""


CONNECT_FAILURES = (OSError, TimeoutError, websockets.WebSocketException, UnexpectedFrame)


@dataclass
class Timings:
    """Latencies measured over a crowd of clients sharing this object: from a message's first send
    to its `ack`, and to its first showing to each member of its room."""

    sent_at: dict[str, float] = field(default_factory=dict)  # client_id -> first send
    ack: list[float] = field(default_factory=list)
    delivery: list[float] = field(default_factory=list)


class ProtocolClient:
    """What the widget and the dashboard keep of a socket's frames, and how they reconnect."""

    def __init__(self, name: str, *, port: int | None = None, timings: Timings | None = None):
        self.name = name
        self.port = port  # of the worker (or load balancer) on 127.0.0.1
        self.timings = timings
        self.seen: Counter[int] = Counter()  # message id -> times shown (a duplicate shows as 2)
        self.texts: dict[int, str] = {}  # message id -> text, shown or found in history
        self.last_id = 0  # the highest id shown or found: the next resume's `since`
        self.acks: dict[str, int] = {}  # client_id -> stored id
        self.unacked: dict[str, dict] = {}  # client_id -> frame, resent until acknowledged
        self.sent = 0  # messages given to send_message
        self.errors: list[dict] = []  # every `error` frame
        self.close_codes: list[int] = []  # of every close not asked for by this client
        self.connections = 0  # sockets that reached `ready`
        self.ready = asyncio.Event()  # set while a socket is past `ready`
        self.socket: ClientConnection | None = None  # while past `ready`
        self.reader: asyncio.Task | None = None
        self.last_frames: deque[dict] = deque(maxlen=5)  # for the message of a timeout
        self._stopping = False
        self._running: asyncio.Task | None = None
        self._progress = asyncio.Event()  # set on every frame and every close
        self._background: set[asyncio.Task] = set()

    # --- what each kind of socket does differently ------------------------------------------

    async def _open(self) -> ClientConnection:
        raise NotImplementedError

    async def _greet(self, socket: ClientConnection) -> None:
        """What the client sends before the server's `ready`."""

    def _take_ready(self, ready: dict) -> None:
        """Record what `ready` carries."""

    async def _after_ready(self, socket: ClientConnection) -> None:
        await self._resend(socket)

    # --- one connection ---------------------------------------------------------------------

    async def connect(self, port: int | None = None) -> dict:
        """Connect (or reconnect) to the worker on `port` (by default the last one), read
        `ready`, then resend what was not acknowledged. Returns the `ready` frame."""
        if port is not None:
            self.port = port
        socket = await self._open()
        try:
            await self._greet(socket)
            ready = json.loads(await asyncio.wait_for(socket.recv(), timeout=OPEN_TIMEOUT))
        except websockets.ConnectionClosed:
            self.close_codes.append(socket.close_code)
            self._progress.set()  # a close before `ready` is progress too (`wait_until`)
            raise
        except BaseException:
            await socket.close()
            raise
        if ready.get("type") != "ready":
            await socket.close()
            raise UnexpectedFrame(f"{self.name}: expected ready, got {ready}")
        self._take_ready(ready)
        self.connections += 1
        self.socket = socket
        self.ready.set()
        self.reader = asyncio.create_task(self._read(socket), name=f"{self.name}-reader")
        await self._after_ready(socket)
        return ready

    async def disconnected(self) -> int | None:
        """Wait until the current socket is closed; its close code (None after `stop`)."""
        return await asyncio.shield(self.reader)  # a caller giving up leaves the socket read

    async def _read(self, socket: ClientConnection) -> int | None:
        keepalive = asyncio.create_task(self._keep_alive(socket))
        try:
            async for raw in socket:
                self._receive(json.loads(raw))
        except websockets.ConnectionClosed:
            pass
        finally:
            keepalive.cancel()
            code = None if self._stopping else socket.close_code
            if code is not None:
                self.close_codes.append(code)  # before the socket is gone: a test reads both
            if self.socket is socket:
                self.socket = None
                self.ready.clear()
            self._progress.set()
        return code

    async def _keep_alive(self, socket: ClientConnection) -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            while True:
                await asyncio.sleep(PING_INTERVAL)
                await socket.send('{"type": "ping"}')

    # --- what the server sends --------------------------------------------------------------

    def _receive(self, frame: dict) -> None:
        self.last_frames.append(frame)
        kind = frame["type"]
        if kind == "message":
            self._record(frame)
        elif kind == "ack":
            self._acknowledged(frame)
        elif kind == "history":
            for message in frame["messages"]:
                self._found(message)
        elif kind == "error":
            self.errors.append(frame)
            if frame["code"] == "rate_limited":
                self._resend_later(frame.get("retry_after", RATE_LIMITED_RETRY))
        self._progress.set()

    def _found(self, message: dict) -> None:
        self.texts[message["id"]] = message["text"]
        self.last_id = max(self.last_id, message["id"])

    def _record(self, message: dict) -> None:
        self._found(message)
        self.seen[message["id"]] += 1
        timings = self.timings
        if timings is not None and self.seen[message["id"]] == 1:
            sent_at = timings.sent_at.get(message.get("client_id") or "")
            if sent_at is not None:
                timings.delivery.append(time.monotonic() - sent_at)

    def _acknowledged(self, ack: dict) -> None:
        client_id = ack["client_id"]
        if self.timings is not None and client_id not in self.acks:
            self.timings.ack.append(time.monotonic() - self.timings.sent_at[client_id])
        self.acks[client_id] = ack["id"]
        self.unacked.pop(client_id, None)

    # --- what the client sends --------------------------------------------------------------

    async def send(self, frame: dict) -> None:
        """Send one frame now (the socket must be past `ready`)."""
        if self.socket is None:
            raise ConnectionError(f"{self.name}: not connected")
        await self.socket.send(json.dumps(frame))

    async def send_message(self, client_id: str, text: str, **fields: Any) -> None:
        """Send now if connected; in any case resent after every `ready` until acknowledged."""
        frame = {"type": "message", "client_id": client_id, "text": text, **fields}
        self.unacked[client_id] = frame
        self.sent += 1
        if self.timings is not None:
            self.timings.sent_at.setdefault(client_id, time.monotonic())
        if self.socket is not None:
            await self._resend(self.socket, [frame])

    async def resend(self) -> None:
        """Send every unacknowledged message again, in order, with its original `client_id`."""
        if self.socket is not None:
            await self._resend(self.socket)

    async def _resend(self, socket: ClientConnection, frames: list[dict] | None = None) -> None:
        with contextlib.suppress(websockets.ConnectionClosed):  # resent after the next ready
            for frame in list(self.unacked.values()) if frames is None else frames:
                await socket.send(json.dumps(frame))

    def _resend_later(self, delay: float) -> None:
        async def later() -> None:
            await asyncio.sleep(delay)
            await self.resend()

        task = asyncio.create_task(later())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # --- staying connected ------------------------------------------------------------------

    def start(self) -> None:
        """Keep connected to `port` in the background until `stop`, as the widget does."""
        self._running = asyncio.create_task(self._keep_connected(), name=f"{self.name}-running")

    async def _keep_connected(self) -> None:
        failures = 0
        while not self._stopping:
            try:
                await self.connect()
            except CONNECT_FAILURES:
                failures += 1
            else:
                code = await self.disconnected()
                failures = 0 if code in RECONNECT_AT_ONCE else 1
            if failures and not self._stopping:
                ceiling = min(MAX_BACKOFF, FIRST_BACKOFF * 2 ** (failures - 1))
                await asyncio.sleep(random.uniform(0, ceiling))  # full jitter

    async def stop(self) -> None:
        """Close the socket (1000) and stop reconnecting."""
        self._stopping = True
        for task in self._background:
            task.cancel()
        if self._running is not None:
            self._running.cancel()  # a connect, a backoff or a wait for the socket's end
            with contextlib.suppress(asyncio.CancelledError):
                await self._running
        if self.socket is not None:
            await self.socket.close()
        if self.reader is not None:
            await self.reader

    # --- waiting ----------------------------------------------------------------------------

    async def wait_until(self, done: Callable[[], object], timeout: float = 20) -> None:
        """Until `done()` is true, checked after every frame and close."""
        try:
            async with asyncio.timeout(timeout):
                while not done():
                    self._progress.clear()
                    await self._progress.wait()
        except TimeoutError:
            frames = list(self.last_frames)
            raise TimeoutError(f"{self.name}: not done; last frames {frames}") from None

    async def wait_ready(self, timeout: float = 20) -> None:
        async with asyncio.timeout(timeout):
            await self.ready.wait()

    async def wait_acked(self, timeout: float = 20) -> None:
        await self.wait_until(lambda: not self.unacked, timeout)

    async def wait_seen(self, message_ids, timeout: float = 20) -> None:
        wanted = set(message_ids)
        await self.wait_until(lambda: wanted <= self.seen.keys(), timeout)

    def messages_with(self, text: str) -> list[int]:
        """Ids of the distinct messages with this text the client knows of."""
        texts = self.texts.copy()  # one step under the GIL: safe from another thread
        return sorted(message_id for message_id, known in texts.items() if known == text)


class VisitorClient(ProtocolClient):
    """A visitor's widget on `ws/chat/<room>/`: `auth` first, with `since` after a reconnect."""

    def __init__(
        self,
        name: str,
        site: SiteFixture,
        *,
        room: str,
        token: str,
        port: int | None = None,
        timings: Timings | None = None,
    ):
        super().__init__(name, port=port, timings=timings)
        self.site = site
        self.room = room
        self.token = token
        self._since: int | None = None

    async def _open(self) -> ClientConnection:
        url = f"ws://127.0.0.1:{self.port}/ws/chat/{self.room}/?site_key={self.site.key}"
        return await websockets.connect(
            url, origin=self.site.origin, open_timeout=OPEN_TIMEOUT, ping_interval=None
        )

    async def _greet(self, socket: ClientConnection) -> None:
        auth = {"type": "auth", "token": self.token}
        self._since = self.last_id or None
        if self._since:
            auth["since"] = self._since
        await socket.send(json.dumps(auth))

    def _take_ready(self, ready: dict) -> None:
        since = self._since
        for message in ready["messages"]:
            # A resume repeats the seconds up to `since`: skip those already shown, only those.
            if not (since and message["id"] <= since and message["id"] in self.seen):
                self._record(message)


class AgentClient(ProtocolClient):
    """An agent's dashboard on `ws/agent/` of the tenant's host: shown every message of every
    room of the tenant. After each `ready` it asks for the history of the rooms it `watch`es, so a
    test can tell what reached it live (`seen`) from what it only found afterwards (`texts`)."""

    def __init__(
        self,
        name: str,
        agent: AgentFixture,
        *,
        port: int | None = None,
        watch: tuple[str, ...] = (),
        timings: Timings | None = None,
    ):
        super().__init__(name, port=port, timings=timings)
        self.agent = agent
        self.watch = watch

    async def _open(self) -> ClientConnection:
        host = f"{self.agent.host}:{self.port}"
        return await websockets.connect(
            f"ws://{host}/ws/agent/",
            host="127.0.0.1",  # the tenant's host name does not resolve outside a browser
            port=self.port,
            origin=f"http://{host}",
            additional_headers={"Cookie": f"sessionid={self.agent.session_key}"},
            open_timeout=OPEN_TIMEOUT,
            ping_interval=None,
        )

    async def _after_ready(self, socket: ClientConnection) -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            for room in self.watch:
                await socket.send(
                    json.dumps({"type": "history", "conversation": room, "limit": 100})
                )
        await super()._after_ready(socket)


class ClientThread:
    """A client kept connected (`start`) on its own event loop in a background thread, for tests
    whose own thread belongs to Playwright's sync API. `run` runs a coroutine of the client there,
    so its predicates read the client's state on the thread that changes it."""

    def __init__(self, client: ProtocolClient, *, timeout: float = 10):
        self.client = client
        self.timeout = timeout
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, daemon=True, name=f"client-{client.name}"
        )

    def run(self, coroutine: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result()

    async def _started(self) -> None:
        self.client.start()
        await self.client.wait_ready(self.timeout)

    def __enter__(self) -> "ClientThread":
        self._thread.start()
        try:
            self.run(self._started())
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.run(self.client.stop())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self._loop.close()
