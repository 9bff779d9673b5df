"""What the load generator needs to know of each system under test: how to join and speak.

The seed tutorial app speaks `{"message": ...}` with no auth. Parley speaks its wire contract
(PROTOCOL.md): a handshake with `Origin` and `site_key`, an `auth` frame answered by `ready`,
`message` frames answered by `ack` to the sender and `message` to every member.
"""

from dataclasses import dataclass, field

import orjson


@dataclass
class SeedTarget:
    name: str
    url: str  # ws://127.0.0.1:PORT
    pid: int = 0

    def room_url(self, room: str, member: int) -> str:
        return f"{self.url}/ws/chat/{room}/"

    def origin(self) -> str | None:
        return None

    def hello(self, room: str, member: int) -> bytes | None:
        return None

    def is_ready(self, frame: dict) -> bool:
        return True

    def message(self, text: str, client_id: str) -> bytes:
        return orjson.dumps({"message": text})

    def delivered_text(self, frame: dict) -> str | None:
        return frame.get("message")


@dataclass
class ParleyTarget:
    name: str
    url: str  # ws://127.0.0.1:PORT
    site_key: str
    allowed_origin: str
    tokens: dict[str, list[str]] = field(default_factory=dict)  # room -> one token per member
    pid: int = 0
    # More workers behind the same Redis and PostgreSQL: members take turns among all of them,
    # so that a room's members sit on every worker and its messages cross between them.
    more_urls: tuple[str, ...] = ()
    more_pids: tuple[int, ...] = ()

    def room_url(self, room: str, member: int) -> str:
        urls = (self.url, *self.more_urls)
        return f"{urls[member % len(urls)]}/ws/chat/{room}/?site_key={self.site_key}"

    def origin(self) -> str | None:
        return self.allowed_origin

    def hello(self, room: str, member: int) -> bytes | None:
        return orjson.dumps({"type": "auth", "token": self.tokens[room][member]})

    def is_ready(self, frame: dict) -> bool:
        return frame.get("type") == "ready"

    def message(self, text: str, client_id: str) -> bytes:
        return orjson.dumps({"type": "message", "client_id": client_id, "text": text})

    def delivered_text(self, frame: dict) -> str | None:
        return frame.get("text") if frame.get("type") == "message" else None
