"""URLs of a tenant host (`<slug>.<platform host>`): the tenant's dashboard."""

from django.urls import include, path

urlpatterns = [
    path("billing/", include("tenants.billing.urls")),
    path("", include("dashboard.urls")),
]
