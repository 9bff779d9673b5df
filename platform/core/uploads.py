"""Multipart bodies read within a limit, wherever they are first read.

Django parses a multipart body the first time anything reads `request.POST` or `request.FILES`:
in a view, or earlier in a middleware (the CSRF check reads the form's token). So the limit is
set before any of them runs: `UploadLimitMiddleware`, placed before the CSRF middleware, refuses
a multipart body whose declared length is over `ATTACHMENT_MAX_BYTES` and its envelope (413,
unread) and gives the request upload handlers that stop reading a file past that many bytes. A
view may narrow the limit (`bounded_uploads`) if nothing has read the body yet. A file cut short
is dropped and the request marked (`upload_too_large`), never answered with an exception in the
middle of the middleware chain.
"""

from django.conf import settings
from django.core.files.uploadhandler import (
    FileUploadHandler,
    MemoryFileUploadHandler,
    StopUpload,
    TemporaryFileUploadHandler,
)
from django.http import HttpRequest

from core.errors import PayloadTooLarge
from core.http_errors import error_answer

# What a multipart body may carry besides its file: boundaries, part headers, a field or two.
ENVELOPE_BYTES = 16 * 1024
_TOO_LARGE = "_parley_upload_too_large"


class CappedUpload(FileUploadHandler):
    """Counts the bytes of the body's files; past `limit`, stops reading and marks the request."""

    def __init__(self, request: HttpRequest, limit: int):
        super().__init__(request)
        self.limit = limit
        self.received = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.received += len(raw_data)
        if self.received > self.limit:
            setattr(self.request, _TOO_LARGE, self.limit)
            raise StopUpload(connection_reset=False)
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None


def upload_too_large(request: HttpRequest) -> int | None:
    """The limit a file of the request went past while it was read, if one did."""
    return getattr(request, _TOO_LARGE, None)


def declared_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def bounded_uploads(request: HttpRequest, limit: int) -> bool:
    """Read the request's files within `limit` bytes; False when its body was read already
    (the middleware's limit then held)."""
    if hasattr(request, "_files"):
        return False
    request.upload_handlers = [
        CappedUpload(request, limit),
        MemoryFileUploadHandler(request),
        TemporaryFileUploadHandler(request),
    ]
    return True


class UploadLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        if request.content_type == "multipart/form-data":
            limit = settings.ATTACHMENT_MAX_BYTES
            if declared_length(request) > limit + ENVELOPE_BYTES:
                return error_answer(PayloadTooLarge(f"A file may be at most {limit} bytes."))
            bounded_uploads(request, limit)
        return self.get_response(request)
