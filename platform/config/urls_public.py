"""URLs of the platform host (public schema): widget, public APIs, signup."""

from django.urls import path

from dashboard.views.signup import signup

urlpatterns: list = [path("signup/", signup, name="signup")]
