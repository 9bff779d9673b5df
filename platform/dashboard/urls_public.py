"""The dashboard's pages on the platform host (included by `config.urls_public`): the landing
page, "find my dashboard", signup and the emails' unsubscribe page."""

from django.urls import path

from dashboard.views.email import email_unsubscribe
from dashboard.views.landing import find_dashboard, landing
from dashboard.views.signup import signup

urlpatterns = [
    path("", landing, name="landing"),
    path("find-dashboard/", find_dashboard, name="find-dashboard"),
    path("signup/", signup, name="signup"),
    path("email/unsubscribe/<str:token>/", email_unsubscribe, name="email-unsubscribe"),
]
