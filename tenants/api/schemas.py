"""The site-key API's request and response shapes for sites, keys and webhooks (the chat's
conversations and messages have theirs in `widget.site_api.schemas`)."""

import re
from datetime import datetime
from typing import Annotated, Literal

from ninja import Field, Schema
from pydantic import StringConstraints, field_validator, model_validator

from core.api import NoNul, StrictInput
from tenants.models import Webhook
from tenants.origins import InvalidOrigin, normalize_allowed_origin

MAX_ID = 2**63 - 1  # PostgreSQL bigint: larger ids cannot name a row
LOCALE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")


Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), NoNul]
Color = Annotated[str, StringConstraints(pattern=r"^#[0-9a-fA-F]{6}$")]
Greeting = Annotated[str, StringConstraints(max_length=300), NoNul]
ConsentText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000), NoNul]
Locale = Annotated[str, StringConstraints(pattern=LOCALE.pattern, max_length=10)]
Origins = Annotated[
    list[Annotated[str, StringConstraints(max_length=300), NoNul]], Field(max_length=100)
]


def _normalized_origins(origins: list[str] | None) -> list[str] | None:
    if origins is None:
        return None
    normalized = []
    for entry in origins:
        try:
            normalized.append(normalize_allowed_origin(entry))
        except InvalidOrigin as error:
            raise ValueError(str(error)) from None
    return list(dict.fromkeys(normalized))


class SiteIn(StrictInput):
    name: Name
    allowed_origins: Origins
    public_rooms: bool = False
    require_identity: bool = False
    # Agents see visitors' drafts as they type (the widget tells the visitor).
    typing_preview: bool = False
    auto_assign: bool = False
    # A visitor who left an email is sent the transcript when the conversation is closed.
    transcript_on_close: bool = False
    consent_required: bool = False
    consent_text: ConsentText = ""
    color: Color | None = None
    greeting: Greeting | None = None
    position: Literal["right", "left"] | None = None
    locale: Locale | None = None

    _origins = field_validator("allowed_origins")(_normalized_origins)


class SitePatch(StrictInput):
    """Only the fields present change; none may be null."""

    name: Name | None = None
    allowed_origins: Origins | None = None
    public_rooms: bool | None = None
    require_identity: bool | None = None
    typing_preview: bool | None = None
    auto_assign: bool | None = None
    transcript_on_close: bool | None = None
    consent_required: bool | None = None
    consent_text: ConsentText | None = None
    color: Color | None = None
    greeting: Greeting | None = None
    position: Literal["right", "left"] | None = None
    locale: Locale | None = None

    _origins = field_validator("allowed_origins")(_normalized_origins)

    @model_validator(mode="before")
    @classmethod
    def _no_nulls(cls, data):
        if isinstance(data, dict):
            for field, value in data.items():
                if value is None:
                    raise ValueError(f"{field} may not be null")
        return data


class SiteKeyOut(Schema):
    key: str
    created_at: datetime
    expires_at: datetime | None


class SiteOut(Schema):
    id: int
    name: str
    site_key: str | None  # the newest live key: the one for the embed snippet
    keys: list[SiteKeyOut]  # every live key, newest first (older ones until their grace ends)
    allowed_origins: list[str]
    public_rooms: bool
    require_identity: bool
    typing_preview: bool
    auto_assign: bool
    transcript_on_close: bool
    consent_required: bool
    consent_text: str
    color: str
    greeting: str
    position: str
    locale: str
    created_at: datetime
    updated_at: datetime


class SiteCreatedOut(SiteOut):
    identity_secret: str  # shown once


class SiteListOut(Schema):
    data: list[SiteOut]
    next: str | None


class RotateKeyIn(StrictInput):
    grace_seconds: Annotated[int, Field(ge=0, le=30 * 24 * 3600)] = 86400


class IdentitySecretOut(Schema):
    identity_secret: str


WebhookEvent = Literal[tuple(Webhook.Event.values)]


class WebhookIn(StrictInput):
    url: Annotated[str, StringConstraints(max_length=2000), NoNul]
    events: Annotated[list[WebhookEvent], Field(min_length=1, max_length=3)] = list(
        Webhook.Event.values
    )


class WebhookOut(Schema):
    id: int
    url: str
    events: list[str]
    created_at: datetime


class WebhookCreatedOut(WebhookOut):
    secret: str  # shown once


class WebhookListOut(Schema):
    data: list[WebhookOut]
    next: str | None


class DeliveryAttemptOut(Schema):
    at: datetime
    status_code: int | None
    error: str
    duration_ms: int


class DeliveryOut(Schema):
    id: int
    event_id: str
    event_type: str
    status: str
    attempts: list[DeliveryAttemptOut]
    next_attempt_at: datetime | None
    created_at: datetime
    delivered_at: datetime | None


class DeliveryListOut(Schema):
    data: list[DeliveryOut]
    next: str | None


class AuditEntryOut(Schema):
    id: int
    created_at: datetime
    actor_kind: str
    actor_label: str
    address: str | None
    action: str
    target: str
    details: dict


class AuditListOut(Schema):
    data: list[AuditEntryOut]
    next: str | None
