"""The base of Parley's JSON APIs (the widget session API and the site-key API).

Every error a client of these APIs can see leaves through one place, `ParleyAPI.error_response`:
Parley's typed errors (`core.errors`), ninja's validation and authentication errors, a body that
is not JSON or too large (over the API's limit, or over Django's, which ninja meets first when it
reads the body), Django's 404 for an unknown path and the 405 for a wrong method all become
`{"error": {"code", "message"}}` (plus `retry_after` and `Retry-After` on 429 and 503), and a
lock or statement past its database timeout (core/db_timeouts.py) is 503 `unavailable`.
"""

import functools
import logging

import orjson
from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.urls import re_path
from django.views.decorators.csrf import csrf_exempt
from ninja import Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.parser import Parser
from ninja.renderers import BaseRenderer
from pydantic import AfterValidator, ConfigDict

from core.db_timeouts import is_database_timeout
from core.errors import (
    BadRequest,
    InternalError,
    InvalidJson,
    InvalidToken,
    MethodNotAllowed,
    NotFound,
    ParleyError,
    PayloadTooLarge,
    Unavailable,
)
from core.server_internals import NinjaAPIBase, raised_by_parser
from core.text import refuse_unstorable

logger = logging.getLogger(__name__)


def _no_nul(value: str) -> str:
    if "\x00" in value:  # PostgreSQL text cannot hold NUL
        raise ValueError("must not contain NUL characters")
    return value


# Put last in a string's Annotated (after StringConstraints, which must see the raw input):
# text PostgreSQL can hold.
NoNul = AfterValidator(_no_nul)


class StrictInput(Schema):
    """A request body: unknown fields and values of the wrong JSON type are refused (400)."""

    model_config = ConfigDict(extra="forbid", strict=True)


class ErrorDetail(Schema):
    code: str
    message: str
    retry_after: int | None = None


class ErrorOut(Schema):
    error: ErrorDetail


def error_responses(*statuses: int) -> dict[int, type[ErrorOut]]:
    """The documented error answers of an operation, for its OpenAPI `responses`."""
    return dict.fromkeys(statuses, ErrorOut)


class JsonBodyParser(Parser):
    """orjson, a size limit checked before parsing, and a JSON object as the only body."""

    def __init__(self, *, max_body_bytes: int):
        self.max_body_bytes = max_body_bytes

    def parse_body(self, request: HttpRequest) -> dict:
        try:
            body = request.body
        except RequestDataTooBig:
            raise PayloadTooLarge() from None
        if len(body) > self.max_body_bytes:
            raise PayloadTooLarge(f"The body is over {self.max_body_bytes} bytes.")
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError:
            raise InvalidJson() from None
        if not isinstance(data, dict):
            raise BadRequest("The body must be a JSON object.")
        refuse_unstorable(body, data)
        return data


class OrjsonRenderer(BaseRenderer):
    media_type = "application/json"

    def render(self, request: HttpRequest, data, *, response_status: int) -> bytes:
        return orjson.dumps(data)


class ParleyAPI(NinjaAPIBase):
    """A NinjaAPI whose every error answer follows the contract (PROTOCOL.md, Errors)."""

    def __init__(self, *, max_body_bytes: int, **kwargs):
        super().__init__(
            parser=JsonBodyParser(max_body_bytes=max_body_bytes),
            renderer=OrjsonRenderer(),
            **kwargs,
        )

    def error_response(self, request: HttpRequest, exc: Exception) -> HttpResponse:
        error = _as_parley_error(exc)
        if isinstance(error, InternalError):
            logger.error("unhandled error in %s %s", request.method, request.path, exc_info=exc)
        response = self.create_response(request, error.as_body(), status=error.http_status)
        if error.retry_after is not None:
            response["Retry-After"] = str(error.retry_after)
        return response

    def url_patterns(self, patterns: list) -> list:
        """Ninja's routes, answering a wrong method in the contract's shape, then a catch-all
        that answers an unknown path under this API with `not_found` (not Django's HTML 404)."""
        for pattern in patterns:
            if hasattr(pattern, "callback"):
                pattern.callback = self._with_contract_405(pattern.callback)

        @csrf_exempt
        def unknown_path(request: HttpRequest, **kwargs) -> HttpResponse:
            return self.error_response(request, NotFound("No such endpoint."))

        return [*patterns, re_path(r"^.*$", unknown_path)]

    def _with_contract_405(self, view):
        def contract_405(request: HttpRequest, response):
            if not isinstance(response, HttpResponseNotAllowed):
                return response
            answer = self.error_response(request, MethodNotAllowed())
            answer["Allow"] = response["Allow"]
            return answer

        if iscoroutinefunction(view):

            async def async_view(request, *args, **kwargs):
                return contract_405(request, await view(request, *args, **kwargs))

            wrapped = markcoroutinefunction(functools.wraps(view)(async_view))
        else:

            def sync_view(request, *args, **kwargs):
                return contract_405(request, view(request, *args, **kwargs))

            wrapped = functools.wraps(view)(sync_view)
        return csrf_exempt(wrapped)


def _as_parley_error(exc: Exception) -> ParleyError:
    if isinstance(exc, ParleyError):
        return exc
    if isinstance(cause := raised_by_parser(exc), ParleyError):
        return cause  # raised by JsonBodyParser
    if isinstance(exc, RequestDataTooBig):
        return PayloadTooLarge()  # over DATA_UPLOAD_MAX_MEMORY_SIZE, met before the parser runs
    if isinstance(exc, ValidationError):
        return BadRequest(_describe_validation_errors(exc.errors))
    if isinstance(exc, AuthenticationError):
        return InvalidToken()
    if isinstance(exc, HttpError) and 400 <= exc.status_code < 500:
        return BadRequest(str(exc))
    if isinstance(exc, Http404):
        return NotFound()
    if is_database_timeout(exc):
        return Unavailable(retry_after=1)  # a lock or statement past its timeout
    return InternalError()


def _describe_validation_errors(errors: list[dict]) -> str:
    """`field.path: what is wrong` for the first few problems, without the parameter source."""
    described = []
    for error in errors[:3]:
        location = list(error.get("loc", ()))
        # Drop the source, and for a body the view's parameter name: ("body", "body", "name").
        location = location[2:] if location[:1] == ["body"] else location[1:]
        path = ".".join(str(part) for part in location) or "body"
        described.append(f"{path}: {error.get('msg', 'invalid')}")
    return "; ".join(described)
