"""Test-only stand-ins, inside the browser, for the session endpoint and the chat socket, for
widget tests that need to script the server's frames exactly (drops, refusals, a withheld ack).
They follow docs/PROTOCOL.md as far as those tests need:
messages are stored with increasing ids, a `client_id` is stored once per room, `auth` with
`since` resumes. Installed with Playwright's routes; nothing in Parley's code knows about them.
"""

import json
import re
from dataclasses import dataclass, field

from playwright.sync_api import Page, Route, WebSocketRoute

VISITOR = {"kind": "visitor", "id": "v1", "name": ""}
AGENT = {"kind": "agent", "id": "a1", "name": "Anna"}


def stub_session(platform_url: str, **site) -> dict:
    return {
        "visitor_id": "v1",
        "token": "stub-token",
        "expires_at": "2030-01-01T00:00:00Z",
        "conversation": "conv1",
        "ws_url": platform_url.replace("http", "ws", 1) + "/ws/chat/conv1/?site_key=pk_stub",
        "site": {
            "name": "Acme Outdoor",
            "color": "#14532d",
            "greeting": "Hi! Ask us anything about tents.",
            "position": "right",
            "locale": "en",
            "public_rooms": False,
            "agents_online": True,
            **site,
        },
    }


@dataclass
class StubParley:
    platform_url: str
    page_origin: str
    session_requests: list[dict] = field(default_factory=list)
    frames: list[dict] = field(default_factory=list)
    messages: list[dict] = field(default_factory=list)
    sockets: list[WebSocketRoute] = field(default_factory=list)
    acking: bool = True  # False: store nothing and answer nothing (a server about to go away)
    refusing: bool = False  # True: close every new socket with 1011 (a server that is down)
    replies: dict[str, list[dict]] = field(default_factory=dict)  # visitor text -> frames after

    def install(self, page: Page) -> "StubParley":
        page.route(f"{self.platform_url}/api/widget/v1/session", self._session)
        page.route(re.compile(re.escape(f"{self.platform_url}/api/widget/v1/site?")), self._site)
        page.route_web_socket(re.compile(r".*/ws/chat/conv1/.*"), self._socket)
        return self

    def _session(self, route: Route) -> None:
        self.session_requests.append(route.request.post_data_json)
        route.fulfill(
            status=200,
            content_type="application/json",
            headers={"Access-Control-Allow-Origin": self.page_origin},
            body=json.dumps(stub_session(self.platform_url)),
        )

    def _site(self, route: Route) -> None:
        """A site that asks no consent (PROTOCOL.md, Consent)."""
        site = stub_session(self.platform_url)["site"]
        route.fulfill(
            status=200,
            content_type="application/json",
            headers={"Access-Control-Allow-Origin": self.page_origin},
            body=json.dumps(
                {
                    **{f: site[f] for f in ("name", "color", "greeting", "position", "locale")},
                    "consent_required": False,
                    "consent_text": "",
                }
            ),
        )

    def _socket(self, ws: WebSocketRoute) -> None:
        if self.refusing:
            ws.close(code=1011, reason="down")
            return
        self.sockets.append(ws)
        ws.on_message(lambda message: self._frame(ws, json.loads(message)))

    def store(self, text: str, author: dict, client_id: str | None = None) -> dict:
        message = {
            "id": len(self.messages) + 1,
            "client_id": client_id,
            "text": text,
            "ts": "2026-11-24T10:00:00Z",
            "author": author,
        }
        self.messages.append(message)
        return message

    def broadcast(self, frame: dict) -> None:
        for ws in self.sockets:
            ws.send(json.dumps(frame))

    def agent_says(self, text: str) -> None:
        self.broadcast({"type": "message", **self.store(text, AGENT)})

    def close_all(self, code: int, reason: str = "") -> None:
        sockets, self.sockets = self.sockets, []
        for ws in sockets:
            ws.close(code=code, reason=reason)

    def _frame(self, ws: WebSocketRoute, frame: dict) -> None:
        self.frames.append(frame)
        kind = frame["type"]
        if kind == "auth":
            since = frame.get("since") or 0
            resumed = [m for m in self.messages if m["id"] > since]
            ready = {"type": "ready", "room": "conv1", "visitor_id": "v1", "has_more": False}
            ws.send(json.dumps({**ready, "messages": resumed}))
        elif kind == "message" and self.acking:
            known = next((m for m in self.messages if m["client_id"] == frame["client_id"]), None)
            message = known or self.store(frame["text"], VISITOR, frame["client_id"])
            ws.send(
                json.dumps(
                    {
                        "type": "ack",
                        "client_id": frame["client_id"],
                        "id": message["id"],
                        "ts": message["ts"],
                    }
                )
            )
            if known is None:
                self.broadcast({"type": "message", **message})
                for reply in self.replies.get(frame["text"], []):
                    if reply["type"] == "message":
                        reply = {"type": "message", **self.store(reply["text"], AGENT)}
                    elif reply["type"] == "read":
                        reply = {**reply, "up_to": message["id"]}
                    self.broadcast(reply)
        elif kind == "ping":
            ws.send(json.dumps({"type": "pong"}))

    def sent(self, kind: str) -> list[dict]:
        return [f for f in self.frames if f["type"] == kind]
