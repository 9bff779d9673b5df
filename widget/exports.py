"""A tenant's data as one archive: a zip of JSON Lines files, one per kind of record, written a
row at a time (a tenant with millions of messages is never held in memory). Secrets stay out:
no site key, API key, webhook secret, identity secret or password hash."""

import tempfile
import zipfile
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

import orjson
from django_tenants.utils import schema_context

from accounts.models import User
from tenants.models import Site, Tenant
from widget.models import CannedReply, Conversation, Message, Visitor

SITE_FIELDS = (
    "id", "name", "allowed_origins", "public_rooms", "require_identity", "color", "greeting",
    "position", "locale", "created_at", "updated_at",
)  # fmt: skip
USER_FIELDS = ("id", "email", "first_name", "last_name", "role", "date_joined", "last_login")
VISITOR_FIELDS = (
    "id", "site_id", "external_id", "name", "email", "page_url", "first_seen_at", "last_seen_at",
)  # fmt: skip
CONVERSATION_FIELDS = (
    "id", "room", "site_id", "kind", "visitor_id", "status", "assignee_id", "created_at",
    "last_message_at",
)  # fmt: skip
MESSAGE_FIELDS = (
    "id", "conversation_id", "client_id", "author_kind", "author_id", "author_name", "text",
    "created_at",
)  # fmt: skip
CANNED_REPLY_FIELDS = (
    "id", "shortcut", "title", "body", "created_by_id", "created_at", "updated_at",
)  # fmt: skip


def _lines(rows: Iterable[dict]) -> Iterator[bytes]:
    for row in rows:
        yield orjson.dumps(row, default=str) + b"\n"


def tenant_export(tenant: Tenant, path: Path) -> dict[str, int]:
    """Write the tenant's archive to `path`; returns how many records of each kind it holds."""
    counts: dict[str, int] = {}
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:

        def write(name: str, rows: Iterable[dict]) -> None:
            count = 0
            with archive.open(f"{name}.jsonl", "w") as member:
                for line in _lines(rows):
                    member.write(line)
                    count += 1
            counts[name] = count

        write("tenant", [{"id": tenant.pk, "slug": tenant.slug, "name": tenant.name,
                          "created_at": tenant.created_at}])  # fmt: skip
        write("sites", Site.objects.filter(tenant=tenant).values(*SITE_FIELDS).iterator())
        with schema_context(tenant.schema_name):
            write("users", User.objects.values(*USER_FIELDS).iterator())
            write("visitors", Visitor.objects.values(*VISITOR_FIELDS).iterator())
            write("conversations", Conversation.objects.values(*CONVERSATION_FIELDS).iterator())
            write("messages", Message.objects.order_by("id").values(*MESSAGE_FIELDS).iterator())
            write("canned_replies", CannedReply.objects.values(*CANNED_REPLY_FIELDS).iterator())
    return counts


def tenant_export_file(tenant: Tenant) -> tuple[BinaryIO, str, dict[str, int]]:
    """The tenant's archive as an open file (already unlinked: nothing stays on disk once it is
    closed), its file name, and its record counts."""
    folder = Path(tempfile.mkdtemp(prefix="parley-export-"))
    name = f"parley-{tenant.slug}-{datetime.now(UTC):%Y%m%d-%H%M}.zip"
    path = folder / name
    try:
        counts = tenant_export(tenant, path)
        archive = path.open("rb")
    finally:
        path.unlink(missing_ok=True)
        folder.rmdir()
    return archive, name, counts
