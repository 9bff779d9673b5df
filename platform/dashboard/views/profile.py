"""The member's own page (`/profile/`): name, picture, time zone, password and how they are
told of new conversations; the pictures and the notification sound the dashboard serves; and
the link a desktop notification opens."""

import re

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.avatars import avatar_storage_name
from accounts.roles import Capability
from accounts.services import (
    member_avatar_remove,
    member_avatar_set,
    member_away_set,
    member_password_change,
    member_profile_update,
)
from core.errors import ParleyError
from dashboard.permissions import requires
from dashboard.profile_forms import ProfileForm
from dashboard.sounds import chime_wav
from widget.selectors import conversation_by_room

_AVATAR_TOKEN = re.compile(r"^[0-9a-f]{24}$")
# A picture's name changes with every upload, so what a browser keeps of one is good for good.
_FOREVER = "public, max-age=31536000, immutable"


def _profile_initial(user) -> dict:
    return {
        "display_name": user.display_name,
        "time_zone": user.time_zone,
        "notify_sound": user.notify_sound,
        "notify_desktop": user.notify_desktop,
        "notify_unanswered_minutes": (
            "" if user.notify_unanswered_minutes is None else str(user.notify_unanswered_minutes)
        ),
    }


def _password_form(user, data=None) -> PasswordChangeForm:
    form = PasswordChangeForm(user, data)
    # Django focuses the old password; on this page the profile comes first.
    form.fields["old_password"].widget.attrs.pop("autofocus", None)
    return form


def _page(request, *, form=None, password_form=None, status=200):
    return render(
        request,
        "dashboard/profile.html",
        {
            "form": form or ProfileForm(initial=_profile_initial(request.user)),
            "password_form": password_form or _password_form(request.user),
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def profile(request):
    if request.method == "GET":
        return _page(request)
    form = ProfileForm(request.POST, request.FILES)
    if not form.is_valid():
        return _page(request, form=form, status=400)
    member, data = request.user, form.cleaned_data
    if data["avatar"]:
        try:
            member_avatar_set(tenant=request.tenant, member=member, upload=data["avatar"])
        except ParleyError as error:
            form.add_error("avatar", error.message)
            return _page(request, form=form, status=400)
    elif data["remove_avatar"]:
        member_avatar_remove(member=member)
    member_profile_update(
        tenant=request.tenant,
        member=member,
        display_name=data["display_name"],
        time_zone=data["time_zone"],
        notify_sound=data["notify_sound"],
        notify_desktop=data["notify_desktop"],
        notify_unanswered_minutes=data["notify_unanswered_minutes"],
    )
    messages.success(request, "Your profile is saved.")
    return redirect("profile")


@login_required
@require_POST
def profile_password(request):
    form = _password_form(request.user, request.POST)
    if not form.is_valid():
        return _page(request, password_form=form, status=400)
    member = member_password_change(
        tenant=request.tenant, member=request.user, password=form.cleaned_data["new_password1"]
    )
    # This session stays signed in; the member's other sessions end (their hash is old).
    update_session_auth_hash(request, member)
    messages.success(request, "Your password is changed. Your other sessions are signed out.")
    return redirect("profile")


@login_required
@require_POST
def profile_away(request):
    """The header's "Away" switch: `away=1` or `away=0`, then back to the page it was pressed on.
    Anything else than 1 means available: a switch has two positions."""
    member_away_set(
        tenant=request.tenant, member=request.user, away=request.POST.get("away") == "1"
    )
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        back = "/"
    return redirect(back)


@require_GET
def avatar(request, token: str):
    """A member's picture, to anyone who has its link (visitors' pages and notifications show
    it too; the name is 96 random bits). Only this tenant's folder is looked in, the content
    type is fixed and browsers are told not to guess another."""
    if not _AVATAR_TOKEN.match(token):
        raise Http404("No such picture.")
    name = avatar_storage_name(schema_name=request.tenant.schema_name, token=token)
    if not default_storage.exists(name):
        raise Http404("No such picture.")
    response = FileResponse(default_storage.open(name, "rb"), content_type="image/png")
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = _FOREVER
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@require_GET
def chime(request):
    response = HttpResponse(chime_wav(), content_type="audio/wav")
    response["Cache-Control"] = "public, max-age=86400"
    return response


@requires(Capability.INBOX)
@require_GET
def conversation_open(request, room: str):
    """Where a desktop notification leads: the conversation a frame named by its room."""
    site_id = request.GET.get("site_id", "")
    conversation = conversation_by_room(
        room=room, site_id=int(site_id) if site_id.isdigit() else None
    )
    if conversation is None:
        raise Http404("No such conversation.")
    return redirect("conversation", pk=conversation.pk)
