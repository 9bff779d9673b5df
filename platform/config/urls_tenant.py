"""URLs of a tenant host (`<slug>.<platform host>`): the tenant's dashboard."""

from django.urls import include, path

urlpatterns = [
    path("", include("dashboard.urls")),
]
