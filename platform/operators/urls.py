"""The operator console, on the platform host (included by `config.urls_public`)."""

from django.urls import path

from operators import views

urlpatterns = [
    path("operator/login/", views.sign_in, name="operator-login"),
    path("operator/logout/", views.sign_out, name="operator-logout"),
    path("operator/", views.tenants, name="operator-tenants"),
    path("operator/audit/", views.audit, name="operator-audit"),
    path("operator/tenants/<slug:slug>/", views.tenant_detail, name="operator-tenant"),
    path(
        "operator/tenants/<slug:slug>/<str:action>/", views.tenant_act, name="operator-tenant-act"
    ),
]
