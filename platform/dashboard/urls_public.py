"""The dashboard's pages on the platform host (included by `config.urls_public`): signup."""

from django.urls import path

from dashboard.views.signup import signup

urlpatterns = [
    path("signup/", signup, name="signup"),
]
