"""The widget's URLs on the platform host (included from config/urls_public.py)."""

from django.urls import path, re_path

from widget import views
from widget.attachments import views as attachment_views

urlpatterns = [
    path("widget.js", views.widget_loader, name="widget-loader"),
    # Before the widget's JSON API (config/urls_public.py): a multipart body of its own.
    path("api/widget/v1/attachments", attachment_views.visitor_upload, name="widget-attachments"),
    path(
        "api/v1/conversations/<int:conversation_id>/attachments",
        attachment_views.api_upload,
        name="site-api-attachments",
    ),
    re_path(r"^files/(?P<token>[A-Za-z0-9_:.-]{1,512})$", attachment_views.file_serve, name="file"),
    re_path(
        r"^widget/v/(?P<version>[0-9a-f]{1,64})\.js$", views.widget_bundle, name="widget-bundle"
    ),
    re_path(
        r"^widget/locales/(?P<locale>[a-z]{2})\.(?P<version>[0-9a-f]{1,64})\.json$",
        views.widget_locale,
        name="widget-locale",
    ),
    re_path(
        r"^widget/emoji/(?P<version>[0-9a-f]{1,64})\.js$", views.widget_emoji, name="widget-emoji"
    ),
    re_path(
        r"^widget/emoji/(?P<locale>[a-z]{2})\.(?P<version>[0-9a-f]{1,64})\.json$",
        views.widget_emoji_data,
        name="widget-emoji-data",
    ),
    re_path(
        r"^widget/chunks/conversations\.(?P<version>[0-9a-f]{1,64})\.js$",
        views.widget_conversations,
        name="widget-conversations",
    ),
]
