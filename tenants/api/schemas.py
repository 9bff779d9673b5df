"""The site-key API's request and response shapes for sites, keys and webhooks (the chat's
conversations and messages have theirs in `widget.site_api.schemas`)."""

import re
from datetime import date, datetime
from typing import Annotated, Literal

from ninja import Field, Schema
from pydantic import StringConstraints, field_validator, model_validator

from core.api import NoNul, StrictInput
from tenants import hours
from tenants.models import ATTACHMENT_TYPES_ALLOWED, Site, Webhook
from tenants.origins import InvalidOrigin, normalize_allowed_origin
from tenants.prechat import FIELD_TYPES, MAX_FIELDS, MAX_LABEL, MAX_OPTIONS, prechat_fields_parse

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


AttachmentTypes = Annotated[
    list[Annotated[str, StringConstraints(max_length=100)]], Field(max_length=30)
]


def _safe_types(types: list[str] | None) -> list[str] | None:
    if types is None:
        return None
    unknown = [kind for kind in types if kind not in ATTACHMENT_TYPES_ALLOWED]
    if unknown:
        raise ValueError(
            f"unknown or unsafe types: {', '.join(unknown)}; "
            f"choose among {', '.join(ATTACHMENT_TYPES_ALLOWED)}"
        )
    return list(dict.fromkeys(types))


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


Clock = Annotated[str, StringConstraints(pattern=r"^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$")]


class HoursInterval(StrictInput):
    start: Clock
    end: Clock


DayHours = Annotated[list[HoursInterval], Field(max_length=hours.MAX_INTERVALS_PER_DAY)]


class WeeklyHours(StrictInput):
    """Each day's opening intervals in the site's time zone (a day left out is closed)."""

    mon: DayHours = []
    tue: DayHours = []
    wed: DayHours = []
    thu: DayHours = []
    fri: DayHours = []
    sat: DayHours = []
    sun: DayHours = []


class PrechatFieldIn(StrictInput):
    key: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")] | None = None
    label: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_LABEL), NoNul
    ]
    type: Literal[FIELD_TYPES]
    required: bool = False
    options: Annotated[
        list[Annotated[str, StringConstraints(max_length=MAX_LABEL), NoNul]],
        Field(max_length=MAX_OPTIONS),
    ] = []


OutOfHours = Literal[tuple(Site.OutOfHours.values)]
PrechatMode = Literal[tuple(Site.Prechat.values)]
TimeZone = Annotated[str, StringConstraints(max_length=64)]
AwayMessage = Annotated[str, StringConstraints(max_length=300), NoNul]
# JSON has no date type: an ISO 8601 date string (YYYY-MM-DD), read as a date.
ClosedDates = Annotated[
    list[Annotated[date, Field(strict=False)]], Field(max_length=hours.MAX_CLOSED_DATES)
]
PrechatFields = Annotated[list[PrechatFieldIn], Field(max_length=MAX_FIELDS)]


def _weekly(weekly: WeeklyHours | None) -> dict | None:
    """The week as the site stores it, refused when two intervals of a day overlap or one ends
    before it starts (the same rules as the dashboard: tenants.hours)."""
    if weekly is None:
        return None
    return hours.weekly_json(hours.weekly_parse(weekly.model_dump()))


def _time_zone(name: str | None) -> str | None:
    if name is not None and hours.time_zone_problem(name):
        raise ValueError(f"use {hours.time_zone_problem(name)}")
    return name


def _prechat_fields(fields: list[PrechatFieldIn] | None) -> list[dict] | None:
    if fields is None:
        return None
    return prechat_fields_parse([field.model_dump(exclude_none=True) for field in fields])


class SiteAvailability(StrictInput):
    """Business hours, the away message and the forms: the same in a create and a patch."""

    time_zone: TimeZone | None = None
    hours_enabled: bool | None = None
    weekly_hours: WeeklyHours | None = None
    closed_dates: ClosedDates | None = None
    away_message: AwayMessage | None = None
    out_of_hours: OutOfHours | None = None
    offline_form_when_unavailable: bool | None = None
    prechat: PrechatMode | None = None
    prechat_fields: PrechatFields | None = None

    _time_zone = field_validator("time_zone")(_time_zone)
    _weekly = field_validator("weekly_hours", mode="after")(_weekly)
    _prechat_fields = field_validator("prechat_fields", mode="after")(_prechat_fields)


class SiteIn(SiteAvailability):
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
    # The types of file visitors and agents may attach (none: the default list).
    attachment_types: AttachmentTypes | None = None
    color: Color | None = None
    greeting: Greeting | None = None
    position: Literal["right", "left"] | None = None
    locale: Locale | None = None

    _origins = field_validator("allowed_origins")(_normalized_origins)
    _types = field_validator("attachment_types")(_safe_types)


class SitePatch(SiteAvailability):
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
    attachment_types: AttachmentTypes | None = None
    color: Color | None = None
    greeting: Greeting | None = None
    position: Literal["right", "left"] | None = None
    locale: Locale | None = None

    _origins = field_validator("allowed_origins")(_normalized_origins)
    _types = field_validator("attachment_types")(_safe_types)

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
    attachment_types: list[str]
    color: str
    greeting: str
    position: str
    locale: str
    time_zone: str
    hours_enabled: bool
    weekly_hours: dict[str, list[dict[str, str]]]
    closed_dates: list[date]
    away_message: str
    out_of_hours: str
    offline_form_when_unavailable: bool
    prechat: str
    prechat_fields: list[dict]
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
