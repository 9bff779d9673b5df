"""Operations endpoints, answered before tenant resolution and host validation.

Load balancers, orchestrators and Prometheus call /healthz, /readyz and /metrics by IP address or
an internal host name, which django-tenants would not resolve to a tenant.

/metrics and the reasons /readyz gives are for the operator only: the series name tenants, their
socket counts and traffic, and a failing check's error text names hosts and backends. A trusted
caller sends `Authorization: Bearer <PARLEY_METRICS_TOKEN>` (compared in constant time); when no
token is configured, only a caller on loopback is trusted (its address as `core.ratelimit` reads
it: behind PARLEY_TRUSTED_PROXY_COUNT proxies, the client's, so an outside request relayed by a
local nginx is not loopback). With a token set, loopback alone is not enough. /metrics answers
anyone else 401 `invalid_token` (token set) or 403 `forbidden`; /readyz answers everyone its
status (200 or 503), the failing parts only to a trusted caller.
"""

import hmac
import ipaddress

import structlog
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

from core import metrics
from core.actors import Actor, acting_as
from core.errors import Forbidden, InvalidToken
from core.health import failing_checks
from core.http_errors import error_answer
from core.ratelimit import client_address

TENANT_SCOPE_KEY = "parley.tenant_id"


class OperationsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path == "/healthz":
            return JsonResponse({"status": "ok"})
        if request.path == "/readyz":
            failures = failing_checks()
            if not failures:
                return JsonResponse({"status": "ready"})
            if not operator_trusted(request):
                return JsonResponse({"status": "unavailable"}, status=503)
            return JsonResponse({"status": "unavailable", "failing": failures}, status=503)
        if request.path == "/metrics":
            if not operator_trusted(request):
                if settings.METRICS_TOKEN:
                    return error_answer(InvalidToken("This needs the metrics token."))
                return error_answer(Forbidden("Metrics are served to loopback only."))
            body, content_type = metrics.render()
            return HttpResponse(body, content_type=content_type)
        return self.get_response(request)


def operator_trusted(request: HttpRequest) -> bool:
    """Whether the caller may read metrics and readiness reasons (see the module docstring)."""
    token = settings.METRICS_TOKEN
    if token:
        given = request.headers.get("Authorization", "")
        return hmac.compare_digest(given.encode(), f"Bearer {token}".encode())
    try:
        return ipaddress.ip_address(client_address(request)).is_loopback
    except ValueError:
        return False


class TenantLogContextMiddleware:
    """After tenant resolution: every log line of a request on a tenant host names the tenant,
    its access-log line included (core.access_log reads it from the ASGI scope, which outlives
    this thread's context; the request id is bound there)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        tenant = getattr(request, "tenant", None)
        if tenant is None or tenant.schema_name == settings.PUBLIC_SCHEMA_NAME:
            return self.get_response(request)
        scope = getattr(request, "scope", None)
        if scope is not None:
            scope[TENANT_SCOPE_KEY] = tenant.id
        with structlog.contextvars.bound_contextvars(tenant_id=tenant.id):
            return self.get_response(request)


class ActorMiddleware:
    """Each request acts as its signed-in user (a member of the tenant on its host), or as an
    anonymous client, for the audit logs (`core.actors`); an API key's authentication names
    itself instead. Reset when the request ends."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        address = client_address(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            actor = Actor("member", user.get_username(), address)
        else:
            actor = Actor("anonymous", "", address)
        with acting_as(actor):
            return self.get_response(request)
