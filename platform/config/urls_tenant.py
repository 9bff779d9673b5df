"""URLs of a tenant host (`<slug>.<platform host>`): the tenant's dashboard."""

from django.urls import include, path

urlpatterns = [
    path("", include("dashboard.urls")),
    # The demo's mail catcher (404 unless PARLEY_DEMO_MAIL_DIR is set: `make run`).
    path("", include("demo.urls")),
]
# Errors Django answers itself (a body over its limit, a suspicious request): core/http_errors.py
handler400 = "core.http_errors.bad_request"
handler500 = "core.http_errors.server_error"
