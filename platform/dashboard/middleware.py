"""Content-Security-Policy for the dashboard's pages.

The dashboard ships no inline script or style: every script and stylesheet is a static file of
this host, the agent socket is on this host, and no page may be framed. Pages of the platform host
that are not the dashboard's (the widget's own files and APIs) are left to their owners, except the
signup page, which opts in with `dashboard_csp`.
"""

from functools import wraps
from urllib.parse import urlsplit

from django.conf import settings
from django.shortcuts import render

from tenants.status import suspension_of


def content_security_policy(request, *, form_targets: tuple[str, ...] = ()) -> str:
    scheme = "wss" if request.is_secure() else "ws"
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            f"connect-src 'self' {scheme}://{request.get_host()}",
            f"img-src 'self' data: {files_origin()}",
            "frame-ancestors 'none'",
            "base-uri 'self'",
            " ".join(["form-action 'self'", *form_targets]),
            "object-src 'none'",
        ]
    )


def files_origin() -> str:
    """Where attachments' thumbnails come from (PARLEY_FILES_URL's origin)."""
    parts = urlsplit(settings.FILES_URL)
    return f"{parts.scheme}://{parts.netloc}"


def on_tenant_host(request) -> bool:
    tenant = getattr(request, "tenant", None)
    return tenant is not None and tenant.schema_name != settings.PUBLIC_SCHEMA_NAME


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        form_targets = getattr(response, "dashboard_csp", None)
        wanted = on_tenant_host(request) or form_targets is not None
        if wanted and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = content_security_policy(
                request, form_targets=form_targets or ()
            )
        return response


def tenant_hosts_source() -> str:
    """A CSP source matching every tenant's dashboard host: `<scheme>://*.<platform host>`."""
    parts = urlsplit(settings.PLATFORM_URL)
    return f"{parts.scheme}://*.{parts.netloc}"


def dashboard_csp(*, form_targets: tuple[str, ...] = ()):
    """Give a platform-host page the dashboard's policy. `form_targets`: the other origins its
    forms may lead to; browsers apply `form-action` to the redirect that answers a post too."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            response = view(request, *args, **kwargs)
            response.dashboard_csp = tuple(form_targets)
            return response

        return wrapped

    return decorator


class SuspensionMiddleware:
    """A suspended tenant's dashboard stays readable and says why (`request.suspension`, shown by
    the base template); what would change something is refused with that reason (403), except
    signing in and out."""

    ALLOWED_WHILE_SUSPENDED = ("/login/", "/logout/")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.suspension = None
        if on_tenant_host(request):
            request.suspension = suspension_of(request.tenant.pk)
        if (
            request.suspension is not None
            and request.method not in ("GET", "HEAD", "OPTIONS")
            and not request.path.startswith(self.ALLOWED_WHILE_SUSPENDED)
        ):
            return render(request, "dashboard/suspended.html", status=403)
        return self.get_response(request)
