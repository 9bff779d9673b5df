"""Reading one uploaded file from a multipart body without holding it in memory nor reading it
past the tenant's limit (core.uploads sets the installation's limit for every request; here the
view narrows it to the tenant's plan, or checks the file against it when the CSRF check has read
the body already). Django keeps a small file in memory and spools a larger one to a temporary
file (FILE_UPLOAD_MAX_MEMORY_SIZE).
"""

from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest
from django.utils.datastructures import MultiValueDictKeyError

from core.errors import BadRequest, PayloadTooLarge
from core.uploads import ENVELOPE_BYTES, bounded_uploads, declared_length, upload_too_large

FIELD = "file"


class FileTooLarge(PayloadTooLarge):
    def __init__(self, limit: int):
        super().__init__(f"A file may be at most {limit} bytes here.")


def prepare(request: HttpRequest, limit: int) -> None:
    """Refuse a body declared over `limit` and its envelope before reading it (413), and read
    its files within `limit` (before anything else reads the body, when nothing has yet)."""
    if declared_length(request) > limit + ENVELOPE_BYTES:
        raise FileTooLarge(limit)
    if request.content_type != "multipart/form-data":
        raise BadRequest("Send the file as multipart/form-data, in a field named `file`.")
    request.attachment_limit = limit
    bounded_uploads(request, limit)


def the_file(request: HttpRequest) -> UploadedFile:
    """The body's one file, within the limit `prepare` set (413 past it)."""
    limit = request.attachment_limit
    files = request.FILES
    if upload_too_large(request) is not None:
        raise FileTooLarge(limit)
    try:
        upload = files[FIELD]
    except MultiValueDictKeyError:
        raise BadRequest("Send the file in a multipart field named `file`.") from None
    if len(files.getlist(FIELD)) != 1 or len(files) != 1:
        raise BadRequest("Send one file per request.")
    if upload.size > limit:
        raise FileTooLarge(limit)
    if upload.size == 0:
        raise BadRequest("The file is empty.")
    return upload
