"""URLs of the platform host (public schema): widget, public APIs, signup."""

from django.urls import include, path

urlpatterns: list = [
    path("", include("widget.urls")),
]
