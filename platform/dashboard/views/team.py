"""The team (members, invitations, roles) and the tenant's API keys.

An invitation's link is shown in the response to the invite or resend that made it, and only
there (`shown_once`): the team page lists pending invitations with their age and sender, never a
link; resending makes a new link and the previous one stops working.
"""

from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.timesince import timesince
from django.views.decorators.http import require_http_methods, require_POST

from accounts.models import User
from accounts.roles import Capability, assignable_roles, may_manage_member
from accounts.services import (
    Invitation,
    invitation_expires_at,
    invitation_resend,
    member_change_role,
    member_invite,
    member_remove,
)
from core.errors import ParleyError, PlanLimit
from dashboard.forms import ApiKeyForm, InviteForm, RoleForm
from dashboard.permissions import requires
from dashboard.responses import shown_once
from tenants.models import ApiKey
from tenants.services import api_key_create, api_key_revoke
from widget.selectors import ratings_by_agent


def _team_page(
    request,
    invite_form: InviteForm | None = None,
    *,
    invitation: Invitation | None = None,
    status: int = 200,
):
    people = list(User.objects.select_related("invited_by").order_by("email"))
    now = timezone.now()
    ratings = ratings_by_agent()
    for person in people:
        person.rating = ratings.get(person.pk)
        person.manageable = may_manage_member(request.user, person)
        expires_at = invitation_expires_at(person)
        person.invitation_expired = expires_at is not None and expires_at <= now
        if person.invited_at is not None:
            sent = now - person.invited_at
            person.invitation_age = (
                "Just now"
                if sent < timedelta(minutes=1)
                else f"{timesince(person.invited_at, now)} ago"
            )
    roles = assignable_roles(request.user)
    context = {
        "members": [person for person in people if person.is_active],
        "invitations": sorted(
            (person for person in people if not person.is_active),
            key=lambda person: person.invited_at or now,
            reverse=True,
        ),
        "invite_form": invite_form or InviteForm(roles=roles),
        "roles": roles,
        "invitation": invitation,
        "invitation_lifetime": _lifetime_phrase(settings.PASSWORD_RESET_TIMEOUT),
    }
    response = render(request, "dashboard/team.html", context, status=status)
    return shown_once(response) if invitation else response


def _lifetime_phrase(seconds: int) -> str:
    days, hours = divmod(seconds // 3600, 24)
    if days and not hours:
        return f"{days} day{'s' if days != 1 else ''}"
    hours = seconds // 3600
    return f"{hours} hour{'s' if hours != 1 else ''}"


@requires(Capability.TEAM)
@require_http_methods(["GET"])
def team(request):
    return _team_page(request)


@requires(Capability.TEAM)
@require_POST
def team_invite(request):
    form = InviteForm(request.POST, roles=assignable_roles(request.user))
    if not form.is_valid():
        return _team_page(request, form, status=400)
    try:
        invitation = member_invite(
            tenant=request.tenant,
            inviter=request.user,
            dashboard_url=request.build_absolute_uri("/"),
            **form.cleaned_data,
        )
    except ParleyError as error:
        # The plan's limit is about the team, not about this email.
        form.add_error(None if isinstance(error, PlanLimit) else "email", error.message)
        return _team_page(request, form, status=400)
    messages.success(request, f"Invitation sent to {invitation.member.email}.")
    return _team_page(request, invitation=invitation)


@requires(Capability.TEAM)
@require_POST
def team_resend(request, pk: int):
    member = get_object_or_404(User, pk=pk)
    try:
        invitation = invitation_resend(
            tenant=request.tenant,
            actor=request.user,
            member=member,
            dashboard_url=request.build_absolute_uri("/"),
        )
    except ParleyError as error:
        messages.error(request, error.message)
        return redirect("team")
    messages.success(
        request, f"Invitation sent again to {member.email}. The previous link no longer works."
    )
    return _team_page(request, invitation=invitation)


@requires(Capability.TEAM)
@require_POST
def team_change_role(request, pk: int):
    member = get_object_or_404(User, pk=pk)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a role.")
        return redirect("team")
    try:
        member_change_role(
            tenant=request.tenant,
            actor=request.user,
            member=member,
            role=form.cleaned_data["role"],
        )
    except ParleyError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"{member.email} is now {member.get_role_display().lower()}.")
    return redirect("team")


@requires(Capability.TEAM)
@require_POST
def team_remove(request, pk: int):
    member = get_object_or_404(User, pk=pk)
    try:
        member_remove(tenant=request.tenant, actor=request.user, member=member)
    except ParleyError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"{member.email} was removed from the team.")
    return redirect("team")


def _api_keys_page(request, *, form: ApiKeyForm, new_key: str = "", status: int = 200):
    keys = ApiKey.objects.filter(tenant=request.tenant).order_by("revoked_at", "-created_at")
    context = {"api_keys": keys, "form": form, "new_key": new_key}
    response = render(request, "dashboard/api_keys.html", context, status=status)
    return shown_once(response) if new_key else response


@requires(Capability.API_KEYS)
@require_http_methods(["GET", "POST"])
def api_keys(request):
    if request.method == "GET":
        return _api_keys_page(request, form=ApiKeyForm())
    form = ApiKeyForm(request.POST)
    if not form.is_valid():
        return _api_keys_page(request, form=form, status=400)
    row, key = api_key_create(tenant=request.tenant, name=form.cleaned_data["name"])
    messages.success(request, f"API key “{row.name}” created. Copy it now: it is shown only once.")
    return _api_keys_page(request, form=ApiKeyForm(), new_key=key)


@requires(Capability.API_KEYS)
@require_POST
def api_key_revoke_view(request, pk: int):
    api_key = get_object_or_404(ApiKey, pk=pk, tenant=request.tenant)
    api_key_revoke(api_key=api_key)
    messages.success(request, f"API key “{api_key.name}” revoked.")
    return redirect("api_keys")
