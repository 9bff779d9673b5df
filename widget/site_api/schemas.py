"""The site-key API's shapes of the chat: visitors, conversations, messages. The webhook payloads
of chat events (`widget.webhook_events`) use the same shapes."""

import uuid
from datetime import datetime
from typing import Annotated, Literal

from ninja import Schema
from pydantic import StringConstraints

from core.api import NoNul, StrictInput


class VisitorOut(Schema):
    id: uuid.UUID
    external_id: str
    name: str
    email: str


class ConversationOut(Schema):
    id: int
    room: str
    site_id: int
    kind: str
    status: str
    visitor: VisitorOut | None
    created_at: datetime
    last_message_at: datetime | None
    assignee_id: int | None = None
    snoozed_until: datetime | None = None
    # In `GET /conversations?q=`: the newest matching message, escaped, matches in <mark>.
    headline: str | None = None


class ConversationListOut(Schema):
    data: list[ConversationOut]
    next: str | None


class AuthorOut(Schema):
    kind: str
    id: str
    name: str


class MessageOut(Schema):
    """The same shape as the socket's `message` frame, without `type`."""

    id: int
    client_id: str | None
    text: str
    ts: datetime
    author: AuthorOut
    # A note for the team: never sent to the visitor (nor in the widget's history).
    private: bool = False


class MessageListOut(Schema):
    data: list[MessageOut]
    next: str | None


class AuthorIn(StrictInput):
    kind: Literal["agent", "system"] = "agent"
    id: Annotated[str, StringConstraints(max_length=64), NoNul] = ""
    name: Annotated[str, StringConstraints(max_length=200), NoNul] = ""


class MessageIn(StrictInput):
    text: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000), NoNul
    ]
    client_id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.:-]{1,64}$")] | None = None
    author: AuthorIn | None = None
    # A note for the team (`author.kind` "agent" only): stored and shown to agents, never sent
    # to the visitor.
    private: bool = False
