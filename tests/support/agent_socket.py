"""A real agent on `ws/agent/` (the `websockets` sync client) in a background thread, for browser
tests whose own thread belongs to Playwright.

It reconnects while the server is away (a restarted worker) and, after each `ready`, asks for the
history of the rooms it watches, so a test can tell what reached the agent live (`live`, counted
per message id: a duplicate shows as 2) from what it only found afterwards.
"""

import json
import socket
import threading
import time
from collections import Counter

from websockets.exceptions import ConnectionClosed, InvalidHandshake
from websockets.sync.client import ClientConnection, connect

from tests.support.factories import AgentFixture


class AgentSocket:
    def __init__(self, agent: AgentFixture, port: int, *, watch: tuple[str, ...] = ()):
        self.agent = agent
        self.port = port
        self.watch = list(watch)
        self.frames: list[dict] = []
        self.live: Counter[int] = Counter()  # message id -> times received live
        self.texts: dict[int, str] = {}  # message id -> text, live or from history
        self.connections = 0
        self.endings: list[str] = []  # how each connection that reached `ready` ended
        self._socket: ClientConnection | None = None
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="agent-socket")

    def start(self, timeout: float = 10) -> "AgentSocket":
        self._thread.start()
        self.wait_until(lambda: self.connections > 0, timeout=timeout)
        return self

    def _connect(self) -> ClientConnection:
        host = f"{self.agent.host}:{self.port}"
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        return connect(
            f"ws://{host}/ws/agent/",
            sock=sock,
            origin=f"http://{host}",
            additional_headers={"Cookie": f"sessionid={self.agent.session_key}"},
            open_timeout=5,
        )

    def _run(self) -> None:
        while not self._stopped.is_set():
            try:
                ws = self._connect()
            except (OSError, InvalidHandshake, TimeoutError):
                time.sleep(0.05)  # the worker is down or starting
                continue
            try:
                ready = json.loads(ws.recv(timeout=5))
                assert ready["type"] == "ready", ready
                self._socket = ws
                for room in list(self.watch):
                    ws.send(json.dumps({"type": "history", "conversation": room, "limit": 100}))
                with self._lock:
                    self.connections += 1
                for raw in ws:
                    self._record(json.loads(raw))
            except ConnectionClosed as closed:
                if self._socket is not None:
                    self.endings.append(f"closed {closed.rcvd.code if closed.rcvd else 1006}")
            except (TimeoutError, OSError) as error:
                if self._socket is not None:
                    self.endings.append(repr(error))
            finally:
                self._socket = None
                ws.close()

    def _record(self, frame: dict) -> None:
        with self._lock:
            self.frames.append(frame)
            if frame["type"] == "message":
                self.live[frame["id"]] += 1
                self.texts[frame["id"]] = frame["text"]
            elif frame["type"] == "history":
                for message in frame["messages"]:
                    self.texts[message["id"]] = message["text"]

    def send(self, frame: dict) -> None:
        if self._socket is None:
            raise ConnectionError("the agent socket is not connected")
        self._socket.send(json.dumps(frame))

    def wait_until(self, predicate, *, timeout: float = 10) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise TimeoutError(f"agent socket: condition not met; frames: {self.frames[-5:]}")
            time.sleep(0.02)

    def messages_with(self, text: str) -> list[int]:
        """Ids of the distinct messages with this text the agent knows of."""
        with self._lock:
            return sorted(i for i, t in self.texts.items() if t == text)

    def __enter__(self) -> "AgentSocket":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        self._stopped.set()
        if self._socket is not None:
            self._socket.close()
        self._thread.join(timeout=5)
