"""URLs of the platform host (public schema): widget, public APIs, signup."""

from django.urls import include, path

from dashboard.views.signup import signup

urlpatterns: list = [
    path("", include("widget.urls")),
    path("signup/", signup, name="signup"),
]
