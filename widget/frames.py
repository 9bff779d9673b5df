"""The socket wire contract (PROTOCOL.md, Chat socket and Agent socket) as typed definitions.

Client frames are pydantic models: a consumer validates every frame it receives against the model
its `type` names, so a frame the contract does not allow never reaches a service. Server frames
are TypedDicts built by the functions below: they are sent hundreds of times more often than
they are received, so they stay plain dicts (serialized once per group message by the fan-out).
Each server frame has one builder here, and every producer (the sockets, `widget.events`,
`widget.hot_sql`, the site-key API and the webhooks, which reuse the `message` shape) calls it.
"""

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Literal, NotRequired, TypedDict, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr

from accounts.avatars import InitialsAvatar, initials_avatar
from core.errors import BadRequest, TooLarge
from widget.models import Message

if TYPE_CHECKING:
    from widget.models import Conversation, Visitor

MAX_FRAME_BYTES = 16 * 1024
MAX_TEXT_CHARS = 4000
MAX_HISTORY_LIMIT = 100
MAX_DRAFT_CHARS = 500

MessageId = Annotated[StrictInt, Field(ge=0, le=2**63 - 1)]
ClientId = Annotated[StrictStr, Field(min_length=1, max_length=64)]
Room = Annotated[StrictStr, Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
AttachmentId = Annotated[StrictStr, Field(pattern=r"^[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}$")]
MAX_ATTACHMENTS = 10


class ClientFrame(BaseModel):
    # Unknown fields are ignored (a newer widget may send more); known ones are strictly typed.
    model_config = ConfigDict(extra="ignore", frozen=True)


# --- Chat socket, client to server ----------------------------------------------------------------


class AuthFrame(ClientFrame):
    type: Literal["auth"]
    token: StrictStr = ""
    since: MessageId | None = None


class MessageFrame(ClientFrame):
    type: Literal["message"]
    client_id: ClientId
    # Trimming and the 1..4000 bound are checked by `stored_text`, which answers `too_large`
    # rather than `bad_request` for a long text.
    text: StrictStr = ""
    # Ids of files its author uploaded into this conversation and has not sent yet
    # (PROTOCOL.md, Attachments); a message with attachments may have no text.
    attachments: Annotated[list[AttachmentId], Field(max_length=MAX_ATTACHMENTS)] = []

    def stored_text(self) -> str:
        """The text as it is stored: trimmed, then 1..MAX_TEXT_CHARS characters (0 with
        attachments)."""
        text = self.text.strip()
        if not text and not self.attachments:
            raise BadRequest("text: must not be empty")
        if len(text) > MAX_TEXT_CHARS:
            raise TooLarge(f"text: at most {MAX_TEXT_CHARS} characters")
        return text


class TypingFrame(ClientFrame):
    type: Literal["typing"]
    state: StrictBool
    # The visitor's draft (PROTOCOL.md, Typing preview): shown to the agents only, on a site that
    # enables it; cut to MAX_DRAFT_CHARS, never stored.
    draft: StrictStr | None = None

    def preview(self) -> str:
        return (self.draft or "")[:MAX_DRAFT_CHARS] if self.state else ""


class ContextFrame(ClientFrame):
    """The page the visitor navigated to (PROTOCOL.md, Visitor context)."""

    type: Literal["context"]
    page_url: StrictStr  # a navigation always has one (the widget sends location.href)
    page_title: StrictStr = ""


class ReadFrame(ClientFrame):
    type: Literal["read"]
    up_to: MessageId


class HistoryFrame(ClientFrame):
    type: Literal["history"]
    before: MessageId | None = None
    limit: Annotated[StrictInt, Field(ge=1, le=MAX_HISTORY_LIMIT)] = 50


class TranscriptFrame(ClientFrame):
    """The visitor asks for the conversation by email; `email` only when they left none yet."""

    type: Literal["transcript"]
    email: Annotated[str, Field(max_length=254)] = ""


class StatusFrame(ClientFrame):
    """The visitor's widget asks for the site's status again (at `changes_at`)."""

    type: Literal["status"]


class PingFrame(ClientFrame):
    type: Literal["ping"]


# --- Agent socket, client to server: the same frames, naming their conversation -------------------


class InConversation(ClientFrame):
    conversation: Room
    # Public room names are unique per site, not per tenant: an agent names the site when two of
    # the tenant's sites use the same public room name.
    site_id: StrictInt | None = None


class AgentMessageFrame(MessageFrame, InConversation):
    # A note for the team: stored and shown to agents, never sent to the visitor.
    private: StrictBool = False


class AgentTypingFrame(TypingFrame, InConversation):
    pass


class AgentReadFrame(ReadFrame, InConversation):
    pass


class AgentHistoryFrame(HistoryFrame, InConversation):
    pass


class CloseConversationFrame(InConversation):
    type: Literal["close_conversation"]


# --- Server to client ----------------------------------------------------------------------------


class Author(TypedDict):
    kind: Literal["visitor", "agent", "system"]
    id: str
    name: str


class AgentsAuthor(Author):
    """A message's author as the agent socket tells it: with the initials and colour the
    dashboard draws beside the message (`for_agents`)."""

    avatar: InitialsAvatar


class AttachmentOut(TypedDict):
    id: str
    name: str
    content_type: str
    size: int
    width: int | None
    height: int | None
    url: str  # signed, short-lived: widget.attachments.links
    thumbnail_url: str | None  # images only
    expires_at: str


class MessageOut(TypedDict):
    type: Literal["message"]
    id: int
    client_id: str | None
    text: str
    ts: str
    author: Author
    conversation: NotRequired[str]
    private: NotRequired[bool]
    attachments: NotRequired[list[AttachmentOut]]


AgentsState = Literal["online", "away", "offline"]


class StatusOut(TypedDict):
    """What the widget tells a visitor of who will answer and when (PROTOCOL.md, Status)."""

    agents: AgentsState
    reply_minutes: int | None  # the tenant's median first reply, None without enough answers
    open: bool  # within the site's business hours (always, for a site without hours)
    changes_at: str | None  # when `open` next flips (ISO 8601), None: never
    next_opening: str | None  # closed: when it opens (ISO 8601, UTC); open: None


class ReadyOut(TypedDict):
    type: Literal["ready"]
    room: str
    visitor_id: str
    messages: list[MessageOut]
    has_more: bool
    visitor_read_up_to: int
    agent_read_up_to: int
    # "closed": an agent closed the conversation; the widget asks for a rating it has not had.
    status: Literal["open", "closed"]
    # Who answers and when (PROTOCOL.md, Status); `status` above is the conversation's.
    availability: NotRequired[StatusOut]


class PresenceOut(TypedDict):
    type: Literal["presence"]
    agents: AgentsState
    reply_minutes: int | None


class StatusFrameOut(TypedDict):
    type: Literal["status"]
    status: StatusOut


class AgentReadyOut(TypedDict):
    type: Literal["ready"]
    agent: Author


class AckOut(TypedDict):
    type: Literal["ack"]
    client_id: str
    id: int
    ts: str


class TypingOut(TypedDict):
    type: Literal["typing"]
    author: Author
    state: bool
    draft: NotRequired[str]
    conversation: NotRequired[str]


class ReadOut(TypedDict):
    type: Literal["read"]
    author: Author
    up_to: int
    conversation: NotRequired[str]


class HistoryOut(TypedDict):
    type: Literal["history"]
    messages: list[MessageOut]
    has_more: bool
    conversation: NotRequired[str]


class VisitorSummary(TypedDict):
    id: str
    name: str


class LabelSummary(TypedDict):
    id: int
    name: str
    color: str


class ConversationSummary(TypedDict):
    id: str  # the room
    site_id: int
    kind: str
    status: str
    visitor: VisitorSummary | None
    assignee: int | None
    created_at: str | None
    last_message_at: str | None
    visitor_read_up_to: int
    agent_read_up_to: int
    snoozed_until: str | None
    waiting_since: str | None
    labels: list[LabelSummary]
    unread: int


class VisitorContextOut(TypedDict):
    id: str
    name: str
    email: str
    page_url: str
    page_title: str
    referrer: str
    locale: str
    time_zone: str
    browser: str
    os: str
    device: str
    country: str
    city: str
    attributes: dict
    # The pre-chat form's answers: [{"key", "label", "value"}] in the site's order.
    prechat_answers: list[dict]
    first_seen_at: str | None
    last_seen_at: str | None


class VisitorOut(TypedDict):
    type: Literal["visitor"]
    conversation: str
    site_id: int
    visitor: VisitorContextOut


class ConversationOut(TypedDict):
    type: Literal["conversation"]
    event: Literal["created", "updated", "closed"]
    conversation: ConversationSummary


class ErrorOut(TypedDict):
    type: Literal["error"]
    code: str
    message: str
    retry_after: NotRequired[int]
    client_id: NotRequired[str]


class PongOut(TypedDict):
    type: Literal["pong"]


class ClosedOut(TypedDict):
    """To a private conversation's room when an agent closes it: the widget asks for a rating."""

    type: Literal["closed"]


PONG: PongOut = {"type": "pong"}
CLOSED: ClosedOut = {"type": "closed"}

# A frame of the agent socket's that names its conversation (`in_conversation`).
NamesConversation = TypeVar("NamesConversation", MessageOut, AckOut, TypingOut, ReadOut, HistoryOut)


def in_conversation(frame: NamesConversation, room: str) -> NamesConversation:
    """The agent socket's copy of a frame: the same fields and the conversation (its room)."""
    return frame | {"conversation": room}


def with_avatar(frame: MessageOut) -> MessageOut:
    """A message as the agent socket tells it: its author with the initials and colour
    (`accounts.avatars.initials_avatar`) of the name the dashboard shows, the author's or, without
    one, the kind's. The dashboard draws a message that arrives live exactly as it draws one at
    page load and computes none of its own. The room's copy goes without: the widget draws no
    pictures of people."""
    author = frame["author"]
    shown = author["name"] or Message.AuthorKind(author["kind"]).label
    drawn: AgentsAuthor = {**author, "avatar": initials_avatar(shown)}
    return frame | {"author": drawn}


def for_agents(frame: MessageOut, room: str) -> MessageOut:
    """The agent socket's copy of a message: in its conversation, its author drawn."""
    return in_conversation(with_avatar(frame), room)


def message(
    message_id: int,
    client_id: str | None,
    text: str,
    created_at: datetime,
    author_kind: str,
    author_id: str,
    author_name: str,
    private: bool = False,
) -> MessageOut:
    """The `message` frame of a stored message, from its plain values.

    Positional in the order of `widget.hot_sql`'s message columns, so the hot path builds a frame
    straight from a row (`message(*row)`); `message_of` builds it from a model.
    """
    frame: MessageOut = {
        "type": "message",
        "id": message_id,
        "client_id": client_id,
        "text": text,
        "ts": created_at.isoformat(),
        "author": {"kind": author_kind, "id": author_id, "name": author_name},
    }
    if private:
        # Only agents ever get a note's frame (`widget.events.publish_message`).
        frame["private"] = True
    return frame


def message_of(stored: "Message") -> MessageOut:
    """The `message` frame of a stored `Message`, with the attachments the writer linked to it
    (`frames_attachments` adds those of messages read back)."""
    frame = message(
        stored.id,
        stored.client_id,
        stored.text,
        stored.created_at,
        stored.author_kind,
        stored.author_id,
        stored.author_name,
        stored.private,
    )
    return with_attachments(frame, getattr(stored, "attachments_out", None))


def with_attachments(frame: MessageOut, attachments: list[AttachmentOut] | None) -> MessageOut:
    """The frame with its message's attachments; a message without any has no such field."""
    if attachments:
        frame["attachments"] = attachments
    return frame


def attachment(
    *,
    attachment_id: str,
    name: str,
    content_type: str,
    size: int,
    width: int | None,
    height: int | None,
    url: str,
    thumbnail_url: str | None,
    expires_at: datetime,
) -> AttachmentOut:
    return {
        "id": attachment_id,
        "name": name,
        "content_type": content_type,
        "size": size,
        "width": width,
        "height": height,
        "url": url,
        "thumbnail_url": thumbnail_url,
        "expires_at": expires_at.isoformat(),
    }


def conversation_summary(conversation: "Conversation") -> ConversationSummary:
    """What agents are told about a conversation in `conversation` frames.

    Reads only what the caller loaded (the visitor must be loaded with the conversation, and
    `unread` and `list_labels` set on it: `hot_sql.room_touch` or `hot_sql.room_list_state`),
    so it can run after commit without a query.
    """
    visitor = conversation.visitor if conversation.visitor_id else None
    snoozed, waiting = conversation.snoozed_until, conversation.waiting_since
    return {
        "id": conversation.room,
        "site_id": conversation.site_id,
        "kind": conversation.kind,
        "status": conversation.status,
        "visitor": {"id": str(visitor.id), "name": visitor.display_name} if visitor else None,
        "assignee": conversation.assignee_id,
        "created_at": conversation.created_at.isoformat() if conversation.created_at else None,
        "last_message_at": (
            conversation.last_message_at.isoformat() if conversation.last_message_at else None
        ),
        "visitor_read_up_to": conversation.visitor_read_up_to,
        "agent_read_up_to": conversation.agent_read_up_to,
        "snoozed_until": snoozed.isoformat() if snoozed else None,
        "waiting_since": waiting.isoformat() if waiting else None,
        "labels": conversation.list_labels,
        "unread": conversation.unread,
    }


def conversation(
    *, event: Literal["created", "updated", "closed"], conversation: "Conversation"
) -> ConversationOut:
    return {
        "type": "conversation",
        "event": event,
        "conversation": conversation_summary(conversation),
    }


def ready(
    *,
    room: str,
    visitor_id: str,
    messages: list,
    has_more: bool,
    visitor_read_up_to: int = 0,
    agent_read_up_to: int = 0,
    status: Literal["open", "closed"] = "open",
    availability: StatusOut | None = None,
) -> ReadyOut:
    frame: ReadyOut = {
        "type": "ready",
        "room": room,
        "visitor_id": visitor_id,
        "messages": messages,
        "has_more": has_more,
        "visitor_read_up_to": visitor_read_up_to,
        "agent_read_up_to": agent_read_up_to,
        "status": status,
    }
    if availability is not None:
        frame["availability"] = availability
    return frame


def presence(*, agents: AgentsState, reply_minutes: int | None) -> PresenceOut:
    return {"type": "presence", "agents": agents, "reply_minutes": reply_minutes}


def status(status: StatusOut) -> StatusFrameOut:
    return {"type": "status", "status": status}


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def visitor_context(visitor: "Visitor") -> VisitorContextOut:
    """What agents see of a visitor beside the conversation (the panel, the `visitor` frame)."""
    return {
        "id": str(visitor.id),
        "name": visitor.display_name,
        "email": visitor.email,
        "page_url": visitor.page_url,
        "page_title": visitor.page_title,
        "referrer": visitor.referrer,
        "locale": visitor.locale,
        "time_zone": visitor.time_zone,
        "browser": visitor.browser,
        "os": visitor.os,
        "device": visitor.device,
        "country": visitor.country,
        "city": visitor.city,
        "attributes": dict(visitor.attributes or {}),
        "prechat_answers": list(visitor.prechat_answers or []),
        "first_seen_at": _iso(visitor.first_seen_at),
        "last_seen_at": _iso(visitor.last_seen_at),
    }


def visitor(*, room: str, site_id: int, visitor: "Visitor") -> VisitorOut:
    """The agents' `visitor` frame: the visitor of a conversation navigated or was identified."""
    return {
        "type": "visitor",
        "conversation": room,
        "site_id": site_id,
        "visitor": visitor_context(visitor),
    }


def agent_ready(*, agent: Author) -> AgentReadyOut:
    return {"type": "ready", "agent": agent}


def ack(*, client_id: str, message_id: int, created_at: datetime) -> AckOut:
    return {"type": "ack", "client_id": client_id, "id": message_id, "ts": created_at.isoformat()}


def typing(*, author: Author, state: bool, draft: str = "") -> TypingOut:
    frame: TypingOut = {"type": "typing", "author": author, "state": state}
    if draft:
        frame["draft"] = draft
    return frame


def read(*, author: Author, up_to: int) -> ReadOut:
    return {"type": "read", "author": author, "up_to": up_to}


class TranscriptOut(TypedDict):
    type: Literal["transcript"]
    email: str


def transcript(*, email: str) -> TranscriptOut:
    """The transcript will be emailed to `email` (the visitor's own address) within a minute."""
    return {"type": "transcript", "email": email}


def history(*, messages: list, has_more: bool) -> HistoryOut:
    return {"type": "history", "messages": messages, "has_more": has_more}


def error(
    *, code: str, message: str, retry_after: int | None = None, client_id: str | None = None
) -> ErrorOut:
    frame: ErrorOut = {"type": "error", "code": code, "message": message}
    if retry_after is not None:
        frame["retry_after"] = retry_after
    if client_id is not None:
        frame["client_id"] = client_id
    return frame
