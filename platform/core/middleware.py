"""Operations endpoints, answered before tenant resolution and host validation.

Load balancers, orchestrators and Prometheus call /healthz, /readyz and /metrics by IP address or
an internal host name, which django-tenants would not resolve to a tenant.
"""

from django.http import HttpResponse, JsonResponse

from core import metrics
from core.health import failing_checks


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
