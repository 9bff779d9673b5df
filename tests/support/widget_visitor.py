"""A visitor of a `dashboard_server`'s site, reduced to the widget's protocol: a session
(`POST /api/widget/v1/session`), then the chat socket; for browser tests of the dashboard whose
other side is a real visitor. Sync (the `websockets` sync client), so it runs beside Playwright's
sync API; create it inside `django_db_blocker.unblock()` (it reads the site's key).

    with django_db_blocker.unblock():
        visitor = WidgetVisitor(server, "Nora Field", origin="https://shop.test")
    visitor.say("Hello")            # returns once the server acknowledged (stored) it
    visitor.next_agent_message()    # the next agent message the room got
"""

import json
import uuid
from collections import deque

import httpx
from websockets.sync.client import connect

from tenants.models import SiteKey

TIMEOUT = 30  # seconds for each frame awaited: the machine may be busy


class WidgetVisitor:
    def __init__(self, server, name: str = "", *, origin: str):
        """A new visitor; with `name`, one the page identifies under that name (a user of the
        customer's own, not verified: the site does not require identity)."""
        key = SiteKey.objects.filter(site=server.site, revoked_at=None).first().key
        body: dict = {"site_key": key}
        if name:
            body["user"] = {"id": f"u-{uuid.uuid4().hex[:8]}", "name": name}
        answer = httpx.post(
            f"{server.platform_url}/api/widget/v1/session", json=body, headers={"Origin": origin}
        )
        assert answer.status_code == 200, answer.text
        session = answer.json()
        self.unread: deque[dict] = deque()  # frames read while waiting for an ack
        self.room = session["conversation"]
        port = server.platform_url.rsplit(":", 1)[1]
        self.socket = connect(
            f"ws://127.0.0.1:{port}/ws/chat/{self.room}/?site_key={key}", origin=origin
        )
        self.socket.send(json.dumps({"type": "auth", "token": session["token"]}))
        assert self._next()["type"] == "ready"

    def _next(self) -> dict:
        return json.loads(self.socket.recv(timeout=TIMEOUT))

    def say(self, text: str) -> None:
        """Send a message and wait until the server acknowledges it."""
        client_id = str(uuid.uuid4())
        self.socket.send(json.dumps({"type": "message", "client_id": client_id, "text": text}))
        while True:
            frame = self._next()
            if frame["type"] == "ack" and frame["client_id"] == client_id:
                return
            self.unread.append(frame)

    def next_agent_message(self) -> dict:
        while True:
            frame = self.unread.popleft() if self.unread else self._next()
            if frame["type"] == "message" and frame["author"]["kind"] == "agent":
                return frame

    def close(self) -> None:
        self.socket.close()
