"""Operations endpoints, answered before tenant resolution and host validation.

Load balancers, orchestrators and Prometheus call /healthz, /readyz and /metrics by IP address or
an internal host name, which django-tenants would not resolve to a tenant.
"""

import structlog
from django.conf import settings
from django.http import HttpResponse, JsonResponse

from core import metrics
from core.health import failing_checks

TENANT_SCOPE_KEY = "parley.tenant_id"


class OperationsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path == "/healthz":
            return JsonResponse({"status": "ok"})
        if request.path == "/readyz":
            failures = failing_checks()
            if failures:
                return JsonResponse({"status": "unavailable", "failing": failures}, status=503)
            return JsonResponse({"status": "ready"})
        if request.path == "/metrics":
            body, content_type = metrics.render()
            return HttpResponse(body, content_type=content_type)
        return self.get_response(request)


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
