"""Attachments' rows and stored bytes: storing an upload, linking uploads to the message that
sends them, and deleting the bytes of the rows erasure and retention delete.

An upload is stored under `<schema>/<attachment id>/original` (and `.../thumbnail`) of the
`attachments` storage (STORAGES; core/storage.py): the key names nothing the uploader chose.
Bytes are deleted after the transaction that deletes their rows commits, so a rollback never
leaves a row without its file.
"""

from collections.abc import Iterable
from datetime import datetime
from typing import BinaryIO

from django.core.files.base import ContentFile, File
from django.core.files.storage import storages
from django.core.files.uploadedfile import UploadedFile
from django.db import connection, transaction
from django.db.models import QuerySet

from core.errors import BadRequest, UnsupportedType
from widget import frames
from widget.attachments import content, links
from widget.models import Attachment, Conversation, Message, Visitor


def attachment_storage():
    return storages["attachments"]


def attachment_store(
    *,
    conversation: Conversation,
    upload: UploadedFile,
    allowed_types: Iterable[str],
    uploader_kind: str,
    uploader_id: str,
    visitor: Visitor | None = None,
) -> Attachment:
    """Store an uploaded file for `conversation`, unsent: its type told from its bytes and
    checked against `allowed_types` (UnsupportedType: 415), an image re-encoded without its
    metadata and given a thumbnail. The size limit was kept while the body was read
    (widget.attachments.uploads)."""
    upload.seek(0)
    head = upload.read(content.HEAD_BYTES)
    content_type = content.detect_type(head)
    if content_type not in set(allowed_types):
        raise UnsupportedType(f"Files of type {content_type} are not accepted here.")
    upload.seek(0)
    attachment = Attachment(
        conversation=conversation,
        uploader_kind=uploader_kind,
        uploader_id=uploader_id,
        visitor=visitor,
        content_type=content_type,
        name=content.safe_name(upload.name or "", content_type),
    )
    prefix = f"{connection.schema_name}/{attachment.id}"
    storage = attachment_storage()
    stored: list[str] = []
    try:
        if content_type in content.SAFE_IMAGE_TYPES:
            image = content.image_clean(upload, content_type)
            body: BinaryIO | File = ContentFile(image.data)
            attachment.size = len(image.data)
            attachment.width, attachment.height = image.width, image.height
            attachment.thumbnail_key = storage.save(
                f"{prefix}/thumbnail", ContentFile(image.thumbnail)
            )
            stored.append(attachment.thumbnail_key)
        else:
            body = File(upload)
            attachment.size = upload.size
        attachment.storage_key = storage.save(f"{prefix}/original", body)
        stored.append(attachment.storage_key)
        attachment.save(force_insert=True)
    except BaseException:
        _delete_files(stored)
        raise
    return attachment


def attachments_link(
    *, message: Message, attachment_ids: Iterable[str], uploader_id: str
) -> list[Attachment]:
    """Link unsent attachments to the message that sends them, in its transaction: each must
    be `uploader_id`'s own upload (the message's author, or the API key that posts it) into
    the message's conversation, a visitor's for a visitor's message, not sent yet (otherwise
    `invalid_attachment`, and the message is not stored)."""
    wanted = list(dict.fromkeys(attachment_ids))
    if not wanted:
        return []
    visitor = Attachment.UploaderKind.VISITOR
    if message.author_kind == visitor:
        kinds = [visitor]
    else:
        kinds = [Attachment.UploaderKind.AGENT, Attachment.UploaderKind.API]
    rows = list(
        Attachment.objects.select_for_update().filter(
            id__in=wanted,
            conversation_id=message.conversation_id,
            message__isnull=True,
            uploader_kind__in=kinds,
            uploader_id=uploader_id,
        )
    )
    if len(rows) != len(wanted):
        raise InvalidAttachment()
    order = {attachment_id: index for index, attachment_id in enumerate(wanted)}
    rows.sort(key=lambda row: order[str(row.id)])
    for position, row in enumerate(rows):
        row.message, row.position = message, position
    Attachment.objects.bulk_update(rows, ["message", "position"])
    return rows


class InvalidAttachment(BadRequest):
    code = "invalid_attachment"
    default_message = (
        "attachments: each must be a file you uploaded into this conversation and have not "
        "sent yet."
    )


def attachments_out_by_message(message_ids: Iterable[int]) -> dict[int, list[frames.AttachmentOut]]:
    """The attachments of these messages, as frames' fields with fresh signed URLs."""
    ids = list(message_ids)
    if not ids:
        return {}
    found: dict[int, list[frames.AttachmentOut]] = {}
    for row in Attachment.objects.filter(message_id__in=ids).order_by("message_id", "position"):
        found.setdefault(row.message_id, []).append(links.attachment_out(row))
    return found


def frames_attachments(message_frames: list[frames.MessageOut]) -> list[frames.MessageOut]:
    """Add their attachments to message frames read back (history, ready, the API): one query."""
    found = attachments_out_by_message(frame["id"] for frame in message_frames)
    for frame in message_frames:
        frames.with_attachments(frame, found.get(frame["id"]))
    return message_frames


def _delete_files(keys: Iterable[str]) -> None:
    storage = attachment_storage()
    for key in keys:
        if key:
            storage.delete(key)


def files_delete_after_commit(attachments: QuerySet[Attachment]) -> None:
    """Delete these attachments' stored bytes once the transaction deleting their rows commits."""
    keys = [
        key
        for row in attachments.only("storage_key", "thumbnail_key")
        for key in (row.storage_key, row.thumbnail_key)
        if key
    ]
    if keys:
        transaction.on_commit(lambda: _delete_files(keys))


def attachments_prune_unsent(*, before: datetime) -> int:
    """Delete the uploads never sent in a message, made before `before`, and their bytes, in
    batches; returns how many."""
    deleted = 0
    while True:
        with transaction.atomic():
            ids = list(
                Attachment.objects.select_for_update(skip_locked=True)
                .filter(message__isnull=True, created_at__lt=before)
                .values_list("id", flat=True)[:PRUNE_BATCH]
            )
            if not ids:
                return deleted
            files_delete_after_commit(Attachment.objects.filter(id__in=ids))
            Attachment.objects.filter(id__in=ids).delete()
        deleted += len(ids)


PRUNE_BATCH = 1000


def attachments_delete_schema(*, schema_name: str) -> int:
    """Delete every stored file of a tenant's schema (the tenant is gone); returns how many."""
    storage = attachment_storage()
    deleted = 0
    for key in _stored_under(storage, schema_name):
        storage.delete(key)
        deleted += 1
    return deleted


def _stored_under(storage, folder: str):
    try:
        folders, files = storage.listdir(folder)
    except FileNotFoundError:
        return
    for name in files:
        yield f"{folder}/{name}"
    for name in folders:
        yield from _stored_under(storage, f"{folder}/{name}")
