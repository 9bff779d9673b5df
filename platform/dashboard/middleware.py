"""Content-Security-Policy for the dashboard's pages.

The dashboard ships no inline script or style: every script and stylesheet is a static file of
this host, the agent socket is on this host, and no page may be framed. Pages of the platform host
that are not the dashboard's (the widget's own files and APIs) are left to their owners, except the
signup page, which opts in with `dashboard_csp`.
"""

from functools import wraps

from django.conf import settings


def content_security_policy(request) -> str:
    scheme = "wss" if request.is_secure() else "ws"
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            f"connect-src 'self' {scheme}://{request.get_host()}",
            "img-src 'self' data:",
            "frame-ancestors 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "object-src 'none'",
        ]
    )


def _on_tenant_host(request) -> bool:
    tenant = getattr(request, "tenant", None)
    return tenant is not None and tenant.schema_name != settings.PUBLIC_SCHEMA_NAME


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        wanted = _on_tenant_host(request) or getattr(response, "dashboard_csp", False)
        if wanted and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = content_security_policy(request)
        return response


def dashboard_csp(view):
    """Give a platform-host page (signup) the dashboard's policy."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        response.dashboard_csp = True
        return response

    return wrapped
