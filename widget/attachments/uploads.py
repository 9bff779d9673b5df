"""Reading one uploaded file from a multipart body without holding it in memory.

Django's parser keeps a small file in memory and spools a larger one to a temporary file
(FILE_UPLOAD_MAX_MEMORY_SIZE); `CappedUpload` stops the parser as soon as the file passes its
limit, so a body that lies about its length is never read past it. A body whose declared length
is already over the limit is refused before it is read at all (`refuse_declared_length`).
"""

from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import (
    FileUploadHandler,
    MemoryFileUploadHandler,
    TemporaryFileUploadHandler,
)
from django.http import HttpRequest
from django.utils.datastructures import MultiValueDictKeyError

from core.errors import BadRequest, PayloadTooLarge

# What a multipart body may carry besides its file: the boundaries, the part headers, a field
# or two.
ENVELOPE_BYTES = 16 * 1024
FIELD = "file"


class FileTooLarge(PayloadTooLarge):
    def __init__(self, limit: int):
        super().__init__(f"A file may be at most {limit} bytes here.")


class CappedUpload(FileUploadHandler):
    """Counts the bytes of every file in the body; past `limit`, stops with FileTooLarge."""

    def __init__(self, request: HttpRequest, limit: int):
        super().__init__(request)
        self.limit = limit
        self.received = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.received += len(raw_data)
        if self.received > self.limit:
            raise FileTooLarge(self.limit)
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None


def refuse_declared_length(request: HttpRequest, limit: int) -> None:
    """413 before reading a body whose Content-Length is over the file limit and its envelope."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise BadRequest("Content-Length is not a number.") from None
    if length > limit + ENVELOPE_BYTES:
        raise FileTooLarge(limit)


def prepare(request: HttpRequest, limit: int) -> None:
    """Set the request up to read its one file within `limit` (before anything reads its body)."""
    refuse_declared_length(request, limit)
    if not request.content_type == "multipart/form-data":
        raise BadRequest("Send the file as multipart/form-data, in a field named `file`.")
    request.upload_handlers = [
        CappedUpload(request, limit),
        MemoryFileUploadHandler(request),
        TemporaryFileUploadHandler(request),
    ]


def the_file(request: HttpRequest) -> UploadedFile:
    """The body's one file (read now, within the limit `prepare` set)."""
    files = request.FILES
    try:
        upload = files[FIELD]
    except MultiValueDictKeyError:
        raise BadRequest("Send the file in a multipart field named `file`.") from None
    if len(files.getlist(FIELD)) != 1 or len(files) != 1:
        raise BadRequest("Send one file per request.")
    if upload.size == 0:
        raise BadRequest("The file is empty.")
    return upload
