"""The billing pages of a tenant host, included at `/billing/` by `config.urls_tenant`."""

from django.urls import path

from tenants.billing import views

urlpatterns = [
    path("", views.billing_page, name="billing"),
    path("upgrade", views.billing_upgrade, name="billing-upgrade"),
    path("manage", views.billing_manage, name="billing-manage"),
]
