"""The widget's URLs on the platform host (included from config/urls_public.py)."""

from django.urls import path, re_path

from widget import views

urlpatterns = [
    path("widget.js", views.widget_loader, name="widget-loader"),
    re_path(
        r"^widget/v/(?P<version>[0-9a-f]{1,64})\.js$", views.widget_bundle, name="widget-bundle"
    ),
]
