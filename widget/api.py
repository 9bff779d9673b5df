"""The widget HTTP API (`/api/widget/v1/`), called by `widget.js` from tenants' pages.

`GET /site` tells the widget how the site looks and whether it asks the visitor's consent
first, creating nothing; `POST /session` starts or resumes a visitor's session (in the
conversation the widget chooses) before the widget opens its socket; `GET /conversations` lists
the visitor's conversations; `POST /rating` stores the visitor's rating of their closed
conversation.
CORS is answered per site (widget/cors.py); errors follow the contract (core/api.py).
"""

from datetime import UTC, datetime
from typing import Annotated, Literal
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.http import HttpRequest
from django_tenants.utils import schema_context
from ninja import Schema
from pydantic import AfterValidator, Field, StringConstraints, model_validator

from accounts.avatars import initials_avatar
from core.api import NoNul, ParleyAPI, StrictInput, error_responses
from core.errors import ConsentRequired, InvalidToken, NotFound, OriginNotAllowed
from core.ratelimit import CacheWindow, client_address
from tenants.origins import origin_allowed
from tenants.site_directory import SiteInfo, site_for_key
from tenants.status import ensure_active
from tenants.tokens import VisitorToken, bearer_token, token_verify
from widget.availability import site_status
from widget.cors import cors_allow
from widget.models import Conversation
from widget.selectors import visitor_conversations
from widget.services.forms import prechat_done, visitor_offline_message, visitor_prechat_submit
from widget.services.ratings import MAX_COMMENT, conversation_rate
from widget.services.sessions import ConversationChoice, VisitorIdentity, visitor_session_start
from widget.visitor_context import BrowserContext, attributes_clean

widget_api = ParleyAPI(
    title="Parley widget API",
    version="1",
    urls_namespace="widget_api",
    docs_url=None,
    max_body_bytes=settings.WIDGET_API_MAX_BODY_BYTES,
)


def _email(value: str) -> str:
    if value:
        try:
            validate_email(value)
        except DjangoValidationError:
            raise ValueError("is not an email address") from None
    return value


class UserIn(StrictInput):
    id: Annotated[str, StringConstraints(min_length=1, max_length=255), NoNul]
    name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200), NoNul] = ""
    email: Annotated[str, StringConstraints(max_length=254), NoNul, AfterValidator(_email)] = ""
    hash: Annotated[str, StringConstraints(max_length=128)] = ""
    # Custom attributes (plan, company...): scalar values, bounded (widget.visitor_context).
    attributes: Annotated[dict, AfterValidator(attributes_clean)] | None = None


# A private conversation's room id (PROTOCOL.md, Rooms): a public room name is never one.
PrivateRoom = Annotated[str, StringConstraints(pattern=r"^cv_[A-Za-z0-9_-]{1,61}$")]


class SessionIn(StrictInput):
    site_key: Annotated[str, StringConstraints(max_length=64), NoNul]
    visitor_token: Annotated[str, StringConstraints(max_length=2048)] | None = None
    # Another of the visitor's conversations, or a new one (PROTOCOL.md, Several conversations).
    conversation: PrivateRoom | None = None
    new_conversation: bool = False
    user: UserIn | None = None
    # The page, referrer, locale and time zone the widget reports (PROTOCOL.md, Visitor context).
    context: BrowserContext | None = None
    # The visitor accepted the site's consent step (required when the site asks for it).
    consent: bool = False

    @model_validator(mode="after")
    def _one_choice(self) -> "SessionIn":
        if self.conversation is not None and self.new_conversation:
            raise ValueError("give `conversation` or `new_conversation`, not both")
        return self


class StatusOut(Schema):
    """PROTOCOL.md, Status: the same object as the socket's `ready.status` and `status`."""

    agents: Literal["online", "away", "offline"]
    reply_minutes: int | None
    open: bool
    changes_at: datetime | None
    next_opening: datetime | None


class SiteAppearanceOut(Schema):
    name: str
    color: str
    greeting: str
    position: str
    locale: str
    public_rooms: bool
    agents_online: bool
    typing_preview: bool
    status: StatusOut
    away_message: str
    out_of_hours: Literal["offline_form", "hide_launcher", "chat"]
    offline_form_when_unavailable: bool
    # The types of file the site accepts (none: the widget offers no attaching).
    attachment_types: list[str]


class PrechatFieldOut(Schema):
    key: str
    label: str
    type: Literal["text", "email", "number", "select", "checkbox"]
    required: bool
    options: list[str]


class PrechatOut(Schema):
    mode: Literal["none", "name_email", "email_required"]
    fields: list[PrechatFieldOut]
    done: bool  # answered already, or nothing to ask: the widget goes straight to the chat


class RatingIn(StrictInput):
    site_key: Annotated[str, StringConstraints(max_length=64), NoNul]
    visitor_token: Annotated[str, StringConstraints(max_length=2048)]
    score: Annotated[int, Field(ge=1, le=5)]
    comment: Annotated[str, StringConstraints(max_length=MAX_COMMENT), NoNul] = ""


class RatingAnswer(Schema):
    score: int
    comment: str
    created_at: datetime
    updated_at: datetime


class SiteOut(Schema):
    name: str
    color: str
    greeting: str
    position: str
    locale: str
    consent_required: bool
    consent_text: str


class SessionOut(Schema):
    visitor_id: str
    token: str
    expires_at: datetime
    conversation: str
    ws_url: str
    site: SiteAppearanceOut
    prechat: PrechatOut


def chat_socket_url(*, room: str, site_key: str) -> str:
    """`ws(s)://<platform host>/ws/chat/<room>/?site_key=...`, from PLATFORM_URL."""
    platform = urlsplit(settings.PLATFORM_URL)
    scheme = "wss" if platform.scheme == "https" else "ws"
    return f"{scheme}://{platform.netloc}/ws/chat/{room}/?{urlencode({'site_key': site_key})}"


def _check_rate(request: HttpRequest, site: SiteInfo) -> None:
    CacheWindow("session-ip", settings.WIDGET_SESSION_RATE_PER_IP, 60).take(client_address(request))
    CacheWindow("session-site", settings.WIDGET_SESSION_RATE_PER_SITE, 60).take(str(site.site_id))


def _site_for_page(request: HttpRequest, site_key: str) -> SiteInfo:
    """The site named by `site_key`, for a page of one of its allowed origins (else 403)."""
    site = site_for_key(site_key)
    if not origin_allowed(request.headers.get("Origin"), list(site.allowed_origins)):
        raise OriginNotAllowed()
    cors_allow(request)  # from here on, even an error answer is readable by the page
    ensure_active(site.tenant_id)
    return site


@widget_api.get(
    "/site",
    response={200: SiteOut, **error_responses(400, 403, 404, 429)},
    summary="The site's appearance and consent step, creating nothing",
)
def site_describe(
    request: HttpRequest, site_key: Annotated[str, StringConstraints(max_length=64), NoNul]
):
    site = _site_for_page(request, site_key)
    CacheWindow("site-ip", settings.WIDGET_SESSION_RATE_PER_IP, 60).take(client_address(request))
    return SiteOut(
        name=site.name,
        color=site.color,
        greeting=site.greeting,
        position=site.position,
        locale=site.locale,
        consent_required=site.consent_required,
        consent_text=site.consent_text,
    )


@widget_api.post(
    "/session",
    response={200: SessionOut, **error_responses(400, 401, 403, 404, 413, 429)},
    description="403 `consent_required` when the site asks the visitor's consent and the body "
    "has no `consent: true`; nothing is created then. `conversation` opens another of the "
    "visitor's own conversations (404 `not_found` for any other room); `new_conversation` a new "
    "one (429 `rate_limited` past the visitor's or the address's budget of new conversations).",
    summary="Start or resume a visitor's session",
)
def session_start(request: HttpRequest, body: SessionIn):
    site = _site_for_page(request, body.site_key)
    if site.consent_required and not body.consent:
        raise ConsentRequired()  # before anything is made: no visitor, no token, no row
    _check_rate(request, site)
    identity = None
    if body.user is not None:
        identity = VisitorIdentity(
            user_id=body.user.id,
            name=body.user.name,
            email=body.user.email,
            hash=body.user.hash,
            attributes=body.user.attributes,
        )
    session = visitor_session_start(
        site=site,
        visitor_token=body.visitor_token,
        identity=identity,
        context=body.context,
        user_agent=request.headers.get("User-Agent", ""),
        address=client_address(request),
        choice=ConversationChoice(room=body.conversation, new=body.new_conversation),
    )
    with schema_context(site.schema_name):
        status = site_status(site=site)
    return SessionOut(
        visitor_id=str(session.visitor.id),
        token=session.token,
        expires_at=datetime.fromtimestamp(session.claims.expires_at, tz=UTC),
        conversation=session.conversation.room,
        ws_url=chat_socket_url(room=session.conversation.room, site_key=site.key),
        prechat=PrechatOut(
            mode=site.prechat,
            fields=list(site.prechat_fields),
            done=prechat_done(site=site, visitor=session.visitor),
        ),
        site=SiteAppearanceOut(
            name=site.name,
            color=site.color,
            greeting=site.greeting,
            position=site.position,
            locale=site.locale,
            public_rooms=site.public_rooms,
            agents_online=status["agents"] == "online",
            typing_preview=site.typing_preview,
            status=status,
            away_message=site.away_message,
            out_of_hours=site.out_of_hours,
            offline_form_when_unavailable=site.offline_form_when_unavailable,
            attachment_types=list(site.attachment_types),
        ),
    )


class LastMessageOut(Schema):
    text: str  # its first PREVIEW_CHARACTERS characters, as written (the widget shows it plain)
    author: Literal["visitor", "agent", "system"]
    attachments: int
    ts: datetime


class InitialsAvatarOut(Schema):
    initials: str
    color: int  # 0..7, the dashboard's avatar colours (accounts.avatars)


class AgentOut(Schema):
    name: str
    avatar: InitialsAvatarOut


class VisitorConversationOut(Schema):
    id: str  # the room, for `POST /session` `{"conversation": ...}`
    status: Literal["open", "closed"]
    created_at: datetime
    last_message_at: datetime | None
    last_message: LastMessageOut
    agent: AgentOut | None  # the last agent who answered
    unread: int


class VisitorConversationsOut(Schema):
    conversations: list[VisitorConversationOut]
    has_more: bool


PREVIEW_CHARACTERS = 140


def _visitor_token(request: HttpRequest, site: SiteInfo) -> VisitorToken:
    claims = token_verify(bearer_token(request.headers.get("Authorization")))
    if claims.tenant_id != site.tenant_id or claims.site_id != site.site_id:
        raise InvalidToken("This token is for another site.")
    return claims


@widget_api.get(
    "/conversations",
    response={200: VisitorConversationsOut, **error_responses(400, 401, 403, 404, 429)},
    summary="The visitor's conversations, most recently active first",
    description="Authenticated by `Authorization: Bearer <visitor token>`: the conversations of "
    "the visitor it names (an identified visitor's on every device), where something was said; "
    "at most 50, `has_more` when older ones exist.",
)
def conversations_list(
    request: HttpRequest, site_key: Annotated[str, StringConstraints(max_length=64), NoNul]
):
    site = _site_for_page(request, site_key)
    CacheWindow("list-ip", settings.WIDGET_SESSION_RATE_PER_IP, 60).take(client_address(request))
    claims = _visitor_token(request, site)
    with schema_context(site.schema_name):
        rows, has_more = visitor_conversations(site_id=site.site_id, visitor_id=claims.visitor_id)
    return VisitorConversationsOut(
        conversations=[
            VisitorConversationOut(
                id=row.conversation.room,
                status=row.conversation.status,
                created_at=row.conversation.created_at,
                last_message_at=row.conversation.last_message_at,
                last_message=LastMessageOut(
                    text=row.last_message.text[:PREVIEW_CHARACTERS],
                    author=row.last_message.author_kind,
                    attachments=row.attachment_count,
                    ts=row.last_message.created_at,
                ),
                agent=AgentOut(name=row.agent_name, avatar=initials_avatar(row.agent_name))
                if row.agent_name
                else None,
                unread=row.unread,
            )
            for row in rows
        ],
        has_more=has_more,
    )


@widget_api.post(
    "/rating",
    response={200: RatingAnswer, **error_responses(400, 401, 403, 404, 409, 413, 429)},
    summary="Rate the visitor's closed conversation (1 to 5, an optional comment)",
    description="The visitor's own private conversation, named by their token; rating again "
    "replaces the rating. 409 `conflict` while the conversation is open.",
)
def rating_give(request: HttpRequest, body: RatingIn):
    site = _site_for_page(request, body.site_key)
    CacheWindow("rating-ip", settings.WIDGET_SESSION_RATE_PER_IP, 60).take(client_address(request))
    claims = token_verify(body.visitor_token)
    if claims.tenant_id != site.tenant_id or claims.site_id != site.site_id:
        raise InvalidToken()
    with schema_context(site.schema_name):
        conversation = Conversation.objects.filter(
            site_id=site.site_id, room=claims.conversation, visitor_id=claims.visitor_id
        ).first()
        if conversation is None:
            raise NotFound("The conversation no longer exists.")
        rating = conversation_rate(
            tenant_id=site.tenant_id,
            conversation=conversation,
            score=body.score,
            comment=body.comment,
        )
    return RatingAnswer(
        score=rating.score,
        comment=rating.comment,
        created_at=rating.created_at,
        updated_at=rating.updated_at,
    )


# --- The visitor's forms (PROTOCOL.md, Pre-chat and offline forms) ---------------------------

# Bounded here so a huge body is refused before it is read; each field's own rules are the
# service's, answered as `invalid_form` naming the field.
FormText = Annotated[str, StringConstraints(max_length=5000)]


class PrechatIn(StrictInput):
    site_key: Annotated[str, StringConstraints(max_length=64), NoNul]
    visitor_token: Annotated[str, StringConstraints(max_length=2048)]
    name: FormText = ""
    email: FormText = ""
    answers: dict = {}


class OfflineIn(StrictInput):
    site_key: Annotated[str, StringConstraints(max_length=64), NoNul]
    visitor_token: Annotated[str, StringConstraints(max_length=2048)]
    name: FormText = ""
    email: FormText = ""
    message: FormText
    client_id: Annotated[str, StringConstraints(min_length=1, max_length=64), NoNul] | None = None


class FormAcceptedOut(Schema):
    ok: bool


class OfflineAcceptedOut(Schema):
    message_id: int
    conversation: str


def _form_site(request: HttpRequest, site_key: str) -> SiteInfo:
    site = site_for_key(site_key)
    if not origin_allowed(request.headers.get("Origin"), list(site.allowed_origins)):
        raise OriginNotAllowed()
    cors_allow(request)
    ensure_active(site.tenant_id)
    CacheWindow("forms-ip", settings.WIDGET_SESSION_RATE_PER_IP, 60).take(client_address(request))
    return site


@widget_api.post(
    "/prechat",
    response={200: FormAcceptedOut, **error_responses(400, 401, 403, 404, 413, 429)},
    summary="Answer the site's pre-chat form",
)
def prechat_submit(request: HttpRequest, body: PrechatIn):
    site = _form_site(request, body.site_key)
    visitor_prechat_submit(
        site=site,
        visitor_token=body.visitor_token,
        name=body.name,
        email=body.email,
        answers=body.answers,
    )
    return FormAcceptedOut(ok=True)


@widget_api.post(
    "/offline",
    response={200: OfflineAcceptedOut, **error_responses(400, 401, 403, 404, 413, 429)},
    summary="Leave a message with the offline form",
)
def offline_submit(request: HttpRequest, body: OfflineIn):
    site = _form_site(request, body.site_key)
    message = visitor_offline_message(
        site=site,
        visitor_token=body.visitor_token,
        name=body.name,
        email=body.email,
        message=body.message,
        client_id=body.client_id,
    )
    return OfflineAcceptedOut(message_id=message.id, conversation=message.conversation.room)
