"""The answers to the errors Django itself turns into responses, outside the JSON APIs (whose
one handler is `core.api.ParleyAPI.error_response`): the URLconfs' `handler400` and
`handler500`.

Django reads a request's body lazily, so a body over `DATA_UPLOAD_MAX_MEMORY_SIZE` raises
`RequestDataTooBig` wherever it is first read: in a middleware (the CSRF check reads a form) or
in a view (Stripe's webhook). Django answers every such error through the `handler400` of the
URLconf, and so does every request it finds suspicious (a `Host` it does not serve). Here both
answer the contract's JSON error (PROTOCOL.md, Errors): 413 `payload_too_large` for the body,
400 `bad_request` for the rest. An exception no view handles is the contract's 500
`internal_error` (Django has logged it), not Django's HTML page; one that is PostgreSQL cancelling
a statement past its lock or statement timeout (core/db_timeouts.py) is 503 `unavailable`.
"""

import sys

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, JsonResponse

from core.db_timeouts import is_database_timeout
from core.errors import BadRequest, InternalError, ParleyError, PayloadTooLarge, Unavailable


def error_answer(error: ParleyError) -> JsonResponse:
    """The contract's answer to `error`: its status, its JSON body, `Retry-After` when it has
    one."""
    response = JsonResponse(error.as_body(), status=error.http_status)
    if error.retry_after is not None:
        response["Retry-After"] = str(error.retry_after)
    return response


def bad_request(request: HttpRequest, exception: Exception) -> JsonResponse:
    if isinstance(exception, RequestDataTooBig):
        return error_answer(PayloadTooLarge())
    return error_answer(BadRequest())


def server_error(request: HttpRequest) -> JsonResponse:
    # Django calls this while handling the exception: sys.exc_info() is the request's error.
    if is_database_timeout(sys.exc_info()[1]):
        return error_answer(Unavailable(retry_after=1))
    return error_answer(InternalError())
