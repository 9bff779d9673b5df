from django.contrib.auth import views as auth_views
from django.urls import path

from dashboard import views

login_view = auth_views.LoginView.as_view(template_name="dashboard/login.html")

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("login/", login_view, name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
]
