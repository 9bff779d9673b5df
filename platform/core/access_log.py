"""ASGI middleware: one structured access-log line per HTTP request, with a request id.

Daphne's own access log prints the full URI, query string included; Parley runs daphne with
`-v 0` and logs here instead: the path without its query string, the status, the duration and a
request id (the caller's `X-Request-ID` when it sends a sane one, else a new one), which is bound
to every log line written while the request runs and returned in the response headers.
"""

import re
import time
import uuid

import structlog

from core import metrics
from core.middleware import TENANT_SCOPE_KEY

log = structlog.get_logger("parley.access")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class AccessLogMiddleware:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        request_id = _request_id(scope)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message = {
                    **message,
                    "headers": [
                        *message.get("headers", []),
                        (b"x-request-id", request_id.encode()),
                    ],
                }
            await send(message)

        with structlog.contextvars.bound_contextvars(request_id=request_id):
            try:
                await self.app(scope, receive, send_with_id)
            finally:
                metrics.HTTP_REQUESTS.labels(
                    metrics.method_label(scope["method"]), str(status)
                ).inc()
                if scope["path"] not in ("/healthz", "/readyz", "/metrics"):
                    log.info(
                        "http_request",
                        tenant_id=scope.get(TENANT_SCOPE_KEY),
                        method=scope["method"],
                        path=scope["path"],
                        host=_header(scope, b"host"),
                        status=status,
                        duration_ms=round((time.perf_counter() - started) * 1000, 2),
                    )


def _header(scope, name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return ""


def _request_id(scope) -> str:
    given = _header(scope, b"x-request-id")
    return given if _REQUEST_ID.match(given) else uuid.uuid4().hex
