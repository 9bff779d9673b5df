"""CORS for the widget HTTP API (`/api/widget/v1/*`): only the site's allowed origins, no cookies.

django-cors-headers asks `check_request_enabled` whether to add `Access-Control-Allow-Origin`.
Under ASGI it asks on the event loop, where the ORM may not run, and a preflight carries no body,
so no site key. Hence:

- A preflight (`OPTIONS` with `Access-Control-Request-Method`) is answered for any origin. It
  carries no data and grants nothing: it only lets the browser send the real request.
- The real request gets `Access-Control-Allow-Origin` only when the view has matched its
  `Origin` against the allow-list of the site named in the body (`cors_allow`). For any other
  origin the browser blocks the answer, and the endpoint itself answers 403 `origin_not_allowed`.
"""

from corsheaders.signals import check_request_enabled
from django.dispatch import receiver
from django.http import HttpRequest

WIDGET_API_PREFIX = "/api/widget/v1/"
_ALLOWED = "_parley_cors_origin_allowed"


def cors_allow(request: HttpRequest) -> None:
    """Mark the request's origin as allowed for the site it names (its answer is readable)."""
    setattr(request, _ALLOWED, True)


@receiver(check_request_enabled)
def _widget_api_cors(sender, request: HttpRequest, **kwargs) -> bool:
    if not request.path_info.startswith(WIDGET_API_PREFIX):
        return False
    if request.method == "OPTIONS" and "access-control-request-method" in request.headers:
        return True
    return getattr(request, _ALLOWED, False)
