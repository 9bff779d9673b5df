"""The site-key API's shapes of the chat: visitors, conversations, messages. The webhook payloads
of chat events (`widget.webhook_events`) use the same shapes."""

import uuid
from datetime import datetime
from typing import Annotated, Literal

from ninja import Field, Schema
from pydantic import AliasChoices, StringConstraints, model_validator

from core.api import NoNul, StrictInput


class VisitorOut(Schema):
    """A visitor with what their browser reported (PROTOCOL.md, Visitor context)."""

    id: uuid.UUID
    external_id: str
    name: str
    email: str
    page_url: str = Field(description="The page the visitor was last seen on (http or https).")
    page_title: str
    referrer: str = Field(description="The page that led to the first one seen, if any.")
    locale: str = Field(description="The browser's language, e.g. `de-AT`.")
    time_zone: str = Field(description="The browser's IANA time zone, e.g. `Europe/Vienna`.")
    browser: str
    os: str
    device: str
    country: str = Field(description="From the installation's GeoIP database, when it has one.")
    city: str
    attributes: dict[str, str | int | float | bool | None] = Field(
        description="The custom attributes given to `Parley('identify', {..., attributes})`."
    )
    first_seen_at: datetime
    last_seen_at: datetime


class RatingOut(Schema):
    """The visitor's rating of a closed conversation (PROTOCOL.md, Ratings)."""

    score: int = Field(ge=1, le=5)
    comment: str
    agent_id: int | None = Field(description="The member it was assigned to when rated.")
    created_at: datetime
    updated_at: datetime


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
    # The inbox's rows and the actions' answers carry them as `list_labels` (widget.inbox); a
    # list's page validates its rows again, by then as `labels`.
    labels: list["LabelSummaryOut"] = Field(
        default=[], validation_alias=AliasChoices("list_labels", "labels")
    )
    # In `GET /conversations?q=`: the newest matching message, escaped, matches in <mark>.
    headline: str | None = None
    rating: RatingOut | None = None


class ConversationListOut(Schema):
    data: list[ConversationOut]
    next: str | None


class AuthorOut(Schema):
    kind: str
    id: str
    name: str


class AttachmentOut(Schema):
    """A file sent with a message; `url` and `thumbnail_url` are signed and expire at
    `expires_at` (read the message again for fresh ones)."""

    id: uuid.UUID
    name: str
    content_type: str
    size: int
    width: int | None
    height: int | None
    url: str
    thumbnail_url: str | None
    expires_at: datetime


class MessageOut(Schema):
    """The same shape as the socket's `message` frame, without `type`."""

    id: int
    client_id: str | None
    text: str
    ts: datetime
    author: AuthorOut
    # A note for the team: never sent to the visitor (nor in the widget's history).
    private: bool = False
    attachments: list[AttachmentOut] = []


class MessageListOut(Schema):
    data: list[MessageOut]
    next: str | None


class AuthorIn(StrictInput):
    kind: Literal["agent", "system"] = "agent"
    id: Annotated[str, StringConstraints(max_length=64), NoNul] = ""
    name: Annotated[str, StringConstraints(max_length=200), NoNul] = ""


ATTACHMENT_ID = r"^[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}$"


class MessageIn(StrictInput):
    # May be empty when the message sends attachments.
    text: Annotated[str, StringConstraints(strip_whitespace=True, max_length=4000), NoNul] = ""
    client_id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.:-]{1,64}$")] | None = None
    author: AuthorIn | None = None
    # A note for the team (`author.kind` "agent" only): stored and shown to agents, never sent
    # to the visitor.
    private: bool = False
    # Files this API key uploaded into the conversation (POST .../attachments), not sent yet.
    attachments: Annotated[
        list[Annotated[str, StringConstraints(pattern=ATTACHMENT_ID)]], Field(max_length=10)
    ] = []

    @model_validator(mode="after")
    def _says_something(self):
        if not self.text and not self.attachments:
            raise ValueError("text: must not be empty without attachments")
        return self


# Canned replies: lengths are checked here for the OpenAPI document; what a shortcut may be and
# which variables exist, by the services (widget.services.canned_replies), for every surface.
Shortcut = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=33),
    NoNul,
    Field(
        description="Letters, digits, - and _ (a leading / is dropped); unique per tenant "
        "whatever its case, stored in lower case."
    ),
]
CannedTitle = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), NoNul
]
CannedBody = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=3000),
    NoNul,
    Field(
        description="Message text (bold, italic, code, links) with variables filled in when "
        "inserted: {{visitor.name}}, {{visitor.first_name}}, {{visitor.email}}, {{agent.name}}, "
        "{{site.name}}, each with an optional fallback for an empty value: "
        "{{visitor.name|there}}. Anything else in double braces is refused (400)."
    ),
]


class CannedReplyIn(StrictInput):
    shortcut: Shortcut
    title: CannedTitle
    body: CannedBody


class CannedReplyPatch(StrictInput):
    """Only the fields present change; none may be null."""

    shortcut: Shortcut | None = None
    title: CannedTitle | None = None
    body: CannedBody | None = None

    @model_validator(mode="before")
    @classmethod
    def _no_nulls(cls, data):
        if isinstance(data, dict):
            for field, value in data.items():
                if value is None:
                    raise ValueError(f"{field} may not be null")
        return data


class CannedReplyOut(Schema):
    id: int
    shortcut: str
    title: str
    body: str
    created_by_id: int | None = Field(
        description="The member who created it; null when the API did."
    )
    created_at: datetime
    updated_at: datetime


class CannedReplyListOut(Schema):
    data: list[CannedReplyOut]
    next: str | None


# Labels, assignment, snooze and bulk actions: what the dashboard's conversation page does.
class LabelSummaryOut(Schema):
    id: int
    name: str
    color: str


ConversationOut.model_rebuild()

LabelName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=50),
    NoNul,
    Field(description="Unique per tenant whatever its case."),
]
LabelColor = Annotated[
    str, StringConstraints(pattern=r"^#[0-9a-fA-F]{6}$"), Field(description="Like #2563eb.")
]


class LabelIn(StrictInput):
    name: LabelName
    color: LabelColor = "#64748b"


class LabelPatch(StrictInput):
    """Only the fields present change; none may be null."""

    name: LabelName | None = None
    color: LabelColor | None = None

    @model_validator(mode="before")
    @classmethod
    def _no_nulls(cls, data):
        if isinstance(data, dict):
            for field, value in data.items():
                if value is None:
                    raise ValueError(f"{field} may not be null")
        return data


class TranscriptOut(Schema):
    email: str  # the visitor's address the transcript goes to, within a minute


class LabelOut(Schema):
    id: int
    name: str
    color: str
    created_at: datetime


class LabelListOut(Schema):
    data: list[LabelOut]
    next: str | None


MemberId = Annotated[int, Field(ge=1, le=2**63 - 1)]


class AssigneeIn(StrictInput):
    member_id: MemberId | None = Field(
        description="A member's id (`GET /members`), or null for nobody."
    )


class SnoozeIn(StrictInput):
    until: Annotated[datetime, Field(strict=False)] = Field(
        description="An ISO 8601 time with its offset, in the future."
    )


class BulkIn(StrictInput):
    ids: Annotated[
        list[Annotated[int, Field(ge=1, le=2**63 - 1)]], Field(min_length=1, max_length=100)
    ]
    action: Literal["assign", "close", "label"]
    member_id: MemberId | None = Field(default=None, description="For `assign`; null: nobody.")
    label_id: MemberId | None = Field(default=None, description="For `label`.")


class BulkOut(Schema):
    changed: int = Field(
        description="The conversations the action applied to (unknown ids skipped)."
    )


class MemberOut(Schema):
    id: int
    name: str
    email: str
    role: str
    active: bool


class MemberListOut(Schema):
    data: list[MemberOut]
    next: str | None
