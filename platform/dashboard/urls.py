"""URLs of the tenant dashboard (served on `<slug>.<platform host>`)."""

from django.contrib.auth import views as auth_views
from django.urls import path, re_path

from dashboard.views import (
    account,
    attachments,
    auth,
    billing,
    canned_replies,
    inbox,
    inbox_list,
    profile,
    sites,
    team,
    visitor_data,
    webhooks,
)
from widget import views as widget_views

urlpatterns = [
    path("", inbox_list.inbox, name="inbox"),
    path("inbox/counts/", inbox_list.inbox_counts_view, name="inbox_counts"),
    path("conversations/bulk/", inbox_list.inbox_bulk, name="inbox_bulk"),
    path(
        "conversations/<int:pk>/labels/",
        inbox_list.conversation_label_add_view,
        name="conversation_label_add",
    ),
    path(
        "conversations/<int:pk>/labels/<int:label_pk>/remove/",
        inbox_list.conversation_label_remove_view,
        name="conversation_label_remove",
    ),
    path(
        "conversations/<int:pk>/snooze/",
        inbox_list.conversation_snooze_view,
        name="conversation_snooze",
    ),
    path(
        "conversations/<int:pk>/unsnooze/",
        inbox_list.conversation_unsnooze_view,
        name="conversation_unsnooze",
    ),
    path("labels/", inbox_list.labels_page, name="labels"),
    path("labels/<int:pk>/", inbox_list.label_update_view, name="label_update"),
    path("labels/<int:pk>/delete/", inbox_list.label_delete_view, name="label_delete"),
    path("canned-replies/", canned_replies.canned_replies_page, name="canned_replies"),
    path("canned-replies/<int:pk>/", canned_replies.canned_reply_page, name="canned_reply"),
    path(
        "canned-replies/<int:pk>/delete/",
        canned_replies.canned_reply_delete_view,
        name="canned_reply_delete",
    ),
    path("conversations/<int:pk>/", inbox.conversation_detail, name="conversation"),
    path("conversations/<int:pk>/reply/", inbox.conversation_reply, name="conversation_reply"),
    path(
        "conversations/<int:pk>/attachments/",
        attachments.conversation_attachment_upload,
        name="conversation_attachments",
    ),
    path("conversations/<int:pk>/close/", inbox.conversation_close_view, name="conversation_close"),
    path(
        "conversations/<int:pk>/transcript/",
        inbox.conversation_transcript_view,
        name="conversation_transcript",
    ),
    path(
        "conversations/<int:pk>/reopen/",
        inbox.conversation_reopen_view,
        name="conversation_reopen",
    ),
    path(
        "conversations/<int:pk>/assign/",
        inbox.conversation_assign_view,
        name="conversation_assign",
    ),
    path("conversations/room/<str:room>/", profile.conversation_open, name="conversation_open"),
    path(
        "visitors/<uuid:visitor_id>/export/",
        visitor_data.visitor_data_export,
        name="visitor_export",
    ),
    path(
        "visitors/<uuid:visitor_id>/erase/", visitor_data.visitor_data_erase, name="visitor_erase"
    ),
    path("profile/", profile.profile, name="profile"),
    path("profile/password/", profile.profile_password, name="profile_password"),
    path("profile/away/", profile.profile_away, name="profile_away"),
    path("avatars/<str:token>.png", profile.avatar, name="avatar"),
    path("sounds/chime.wav", profile.chime, name="chime"),
    path("sites/", sites.site_list, name="sites"),
    path("sites/new/", sites.site_new, name="site_new"),
    path("sites/<int:pk>/", sites.site_detail, name="site"),
    path("sites/<int:pk>/rotate-key/", sites.site_rotate_key_view, name="site_rotate_key"),
    path(
        "sites/<int:pk>/identity-secret/",
        sites.site_identity_secret_view,
        name="site_identity_secret",
    ),
    # The widget's preview for the site page, from this host: the pages' CSP allows no other.
    re_path(
        r"^widget/preview/(?P<version>[0-9a-f]{1,64})\.js$",
        widget_views.widget_preview,
        name="widget_preview",
    ),
    # The widget's message formatting for the conversation page, likewise.
    re_path(
        r"^widget/markdown/(?P<version>[0-9a-f]{1,64})\.js$",
        widget_views.widget_markdown,
        name="widget_markdown",
    ),
    # The emoji picker of the reply box and its data, likewise (the page's CSP: this host only).
    re_path(
        r"^widget/emoji/(?P<version>[0-9a-f]{1,64})\.js$",
        widget_views.widget_emoji,
        name="widget_emoji",
    ),
    re_path(
        r"^widget/emoji/(?P<locale>[a-z]{2})\.(?P<version>[0-9a-f]{1,64})\.json$",
        widget_views.widget_emoji_data,
        name="widget_emoji_data",
    ),
    path("team/", team.team, name="team"),
    path("team/invite/", team.team_invite, name="team_invite"),
    path("team/<int:pk>/resend/", team.team_resend, name="team_resend"),
    path("team/<int:pk>/role/", team.team_change_role, name="team_change_role"),
    path("team/<int:pk>/remove/", team.team_remove, name="team_remove"),
    path("api-keys/", team.api_keys, name="api_keys"),
    path("webhooks/", webhooks.webhooks, name="webhooks"),
    path("webhooks/<int:pk>/", webhooks.webhook_detail, name="webhook"),
    path("webhooks/<int:pk>/test/", webhooks.webhook_test_view, name="webhook_test"),
    path("webhooks/<int:pk>/secret/", webhooks.webhook_rotate_secret_view, name="webhook_secret"),
    path("webhooks/<int:pk>/enabled/", webhooks.webhook_enable_view, name="webhook_enabled"),
    path("webhooks/<int:pk>/delete/", webhooks.webhook_delete_view, name="webhook_delete"),
    path("audit/", account.audit, name="audit"),
    path("account/", account.account, name="account"),
    path("account/export/", account.account_export, name="account_export"),
    path("account/close/", account.account_close, name="account_close"),
    path("api-keys/<int:pk>/revoke/", team.api_key_revoke_view, name="api_key_revoke"),
    path("billing/", billing.billing_page, name="billing"),
    path("billing/upgrade", billing.billing_upgrade, name="billing-upgrade"),
    path("billing/manage", billing.billing_manage, name="billing-manage"),
    path("login/", auth.LoginView.as_view(), name="login"),
    path("login/link/<str:token>/", auth.login_link, name="login_link"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("invitation/<uidb64>/<token>/", auth.invitation_accept_view, name="invitation_accept"),
    path("password-reset/", auth.PasswordResetView.as_view(), name="password_reset"),
    path(
        "password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(
            template_name="dashboard/password_reset_sent.html"
        ),
        name="password_reset_done",
    ),
    path(
        "reset/<uidb64>/<token>/",
        auth.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "reset/done/",
        auth_views.PasswordResetCompleteView.as_view(
            template_name="dashboard/password_reset_done.html"
        ),
        name="password_reset_complete",
    ),
]
