"""The short-lived signed URLs attachments are served from: `<FILES_URL>/files/<token>`.

A token names one stored file (the original or its thumbnail) of one tenant's schema, and when
it was signed (Django's signing, keyed by SECRET_KEY with a salt of its own): it is good for
FILE_URL_TTL seconds. It is the only credential a download needs, so a URL is handed only to
those who may see its message (the conversation's sockets, the agents, the tenant's API), and
frames carry ids to send, never URLs (PROTOCOL.md, Attachments).
"""

from datetime import UTC, datetime

from django.conf import settings
from django.core import signing
from django.db import connection

from core.errors import LinkExpired, NotFound
from widget import frames

_SALT = "parley.file.v1"
ORIGINAL = "o"
THUMBNAIL = "t"


def file_token(*, schema_name: str, attachment_id: str, variant: str = ORIGINAL) -> str:
    return signing.dumps([schema_name, attachment_id, variant], salt=_SALT, compress=True)


def file_url(token: str) -> str:
    return f"{settings.FILES_URL.rstrip('/')}/files/{token}"


def file_claims(token: str) -> tuple[str, str, str]:
    """(schema name, attachment id, variant) of a valid token; LinkExpired past its lifetime,
    NotFound for anything else (malformed, tampered with)."""
    if len(token) > 512:
        raise NotFound("No file has this link.")
    try:
        schema_name, attachment_id, variant = signing.loads(
            token, salt=_SALT, max_age=settings.FILE_URL_TTL
        )
    except signing.SignatureExpired:
        raise LinkExpired(
            "This file's link has expired; reopen the conversation for a fresh one."
        ) from None
    except (signing.BadSignature, TypeError, ValueError):
        raise NotFound("No file has this link.") from None
    if variant not in (ORIGINAL, THUMBNAIL):
        raise NotFound("No file has this link.")
    return schema_name, attachment_id, variant


def attachment_out(attachment, *, schema_name: str | None = None) -> frames.AttachmentOut:
    """What a message says of one of its attachments, with URLs signed now (in the schema the
    connection is in, unless named)."""
    schema_name = schema_name or connection.schema_name
    now = datetime.now(tz=UTC).timestamp()
    attachment_id = str(attachment.id)
    url = file_url(file_token(schema_name=schema_name, attachment_id=attachment_id))
    thumbnail_url = None
    if attachment.thumbnail_key:
        thumbnail_url = file_url(
            file_token(schema_name=schema_name, attachment_id=attachment_id, variant=THUMBNAIL)
        )
    return frames.attachment(
        attachment_id=attachment_id,
        name=attachment.name,
        content_type=attachment.content_type,
        size=attachment.size,
        width=attachment.width,
        height=attachment.height,
        url=url,
        thumbnail_url=thumbnail_url,
        expires_at=datetime.fromtimestamp(now + settings.FILE_URL_TTL, tz=UTC),
    )
