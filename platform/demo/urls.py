"""The demo's pages on a tenant host (the demo dashboard): its mail catcher's page."""

from django.urls import path

from demo.views import demo_mail, demo_mail_reply

urlpatterns = [
    path("demo/mail/", demo_mail, name="demo-mail"),
    path("demo/mail/<str:key>/reply/", demo_mail_reply, name="demo-mail-reply"),
]
