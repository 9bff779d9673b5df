"""Visitor tokens: the bearer credential a widget holds after `POST /api/widget/v1/session`.

A token is signed by the backend (Django's signing, keyed by SECRET_KEY with its own salt) and
carries who the visitor is and where they may chat. It is not encrypted: it holds ids only, never
secrets. It expires after `VISITOR_TOKEN_TTL` seconds (default 24 h); the session endpoint renews
it when given a valid previous token.
"""

import time
from dataclasses import asdict, dataclass

from django.conf import settings
from django.core import signing

from core.errors import InvalidToken

_SALT = "parley.visitor-token.v1"


@dataclass(frozen=True)
class VisitorToken:
    tenant_id: int
    site_id: int
    visitor_id: str
    conversation: str  # the room id of the visitor's private conversation
    user_id: str = ""  # the tenant's own user id when the identity was verified
    issued_at: int = 0

    @property
    def expires_at(self) -> int:
        return self.issued_at + settings.VISITOR_TOKEN_TTL


def token_issue(
    *, tenant_id: int, site_id: int, visitor_id: str, conversation: str, user_id: str = ""
) -> tuple[str, VisitorToken]:
    claims = VisitorToken(
        tenant_id=tenant_id,
        site_id=site_id,
        visitor_id=visitor_id,
        conversation=conversation,
        user_id=user_id,
        issued_at=int(time.time()),
    )
    return signing.dumps(asdict(claims), salt=_SALT, compress=True), claims


def token_verify(token: object) -> VisitorToken:
    """The token's claims, or InvalidToken if it is malformed, tampered with or expired."""
    if not isinstance(token, str) or not token or len(token) > 2048:
        raise InvalidToken()
    try:
        claims = signing.loads(token, salt=_SALT, max_age=settings.VISITOR_TOKEN_TTL)
        return VisitorToken(**claims)
    except (signing.BadSignature, TypeError, ValueError):
        raise InvalidToken() from None


def bearer_token(authorization: str | None) -> str:
    """The visitor token of an `Authorization: Bearer <token>` header, or InvalidToken. A header
    rather than a query parameter: a URL ends up in access logs, a header does not."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise InvalidToken("Send the visitor token as `Authorization: Bearer <token>`.")
    return token.strip()
