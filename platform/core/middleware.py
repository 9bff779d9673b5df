"""Health probes, answered before tenant resolution and host validation.

Load balancers and orchestrators call /healthz and /readyz by IP address or an internal host
name, which django-tenants would not resolve to a tenant.
"""

from django.http import JsonResponse

from core.health import failing_checks


class HealthCheckMiddleware:
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
        return self.get_response(request)
