"""Signing in and out, password resets, one-time login links and accepting invitations."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.shortcuts import redirect, render
from django.utils.encoding import force_str
from django.utils.http import urlsafe_base64_decode
from django.views.decorators.http import require_GET, require_http_methods

from accounts.login_links import login_link_user
from accounts.models import User
from accounts.services import invitation_accept, invitation_tokens, member_access_changed
from core.ratelimit import client_address
from dashboard.forms import AcceptInvitationForm, LoginForm
from dashboard.throttle import password_reset_throttle, wait_phrase


class LoginView(auth_views.LoginView):
    template_name = "dashboard/login.html"
    form_class = LoginForm
    redirect_authenticated_user = True

    def get_form_kwargs(self):
        return super().get_form_kwargs() | {
            "tenant": self.request.tenant,
            "client_address": client_address(self.request),
        }

    def get_context_data(self, **kwargs):
        signup_url = settings.PLATFORM_URL.rstrip("/") + "/signup/"
        return super().get_context_data(**kwargs) | {"signup_url": signup_url}


class PasswordResetView(auth_views.PasswordResetView):
    """Sends a reset link by email, at most PASSWORD_RESET_RATE_LIMIT requests per address."""

    template_name = "dashboard/password_reset.html"
    email_template_name = "dashboard/email/password_reset.txt"
    subject_template_name = "dashboard/email/password_reset_subject.txt"
    success_url = "/password-reset/sent/"

    def form_valid(self, form):
        throttle, address = password_reset_throttle(), client_address(self.request)
        wait = throttle.retry_after(address)
        if wait:
            form.add_error(None, f"Too many reset requests. Try again in {wait_phrase(wait)}.")
            return self.render_to_response(self.get_context_data(form=form), status=429)
        throttle.hit(address)
        return super().form_valid(form)


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Sets the new password. Django then refuses the member's other sessions (their auth hash no
    longer matches); their open agent sockets are told to close at once."""

    template_name = "dashboard/password_reset_confirm.html"
    success_url = "/reset/done/"

    def form_valid(self, form):
        response = super().form_valid(form)
        member_access_changed(tenant=self.request.tenant, user_id=form.user.pk)
        return response


def csrf_failure(request, reason: str = ""):
    """Django's CSRF refusal page uses inline styles, which the dashboard's CSP blocks."""
    return render(request, "dashboard/csrf_failure.html", status=403)


@require_GET
def login_link(request, token: str):
    user = login_link_user(tenant=request.tenant, token=token)
    if user is None:
        return render(request, "dashboard/login_link_invalid.html", status=400)
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    messages.success(request, f"Welcome to Parley, {user.public_name}. Start by adding a site.")
    return redirect("sites")


_INVITATION_SESSION_KEY = "_invitation_token"
_INVITATION_URL_TOKEN = "accept"


@require_http_methods(["GET", "POST"])
def invitation_accept_view(request, uidb64: str, token: str):
    """Like Django's password reset: the link's token moves into the session at once and the
    browser is sent to a URL without it, so it does not linger in logs, history or referrers."""
    if token != _INVITATION_URL_TOKEN:
        request.session[_INVITATION_SESSION_KEY] = token
        return redirect("invitation_accept", uidb64=uidb64, token=_INVITATION_URL_TOKEN)
    member = _invited_member(uidb64, request.session.get(_INVITATION_SESSION_KEY, ""))
    if member is None:
        return render(request, "dashboard/invitation_invalid.html", status=400)
    form = AcceptInvitationForm(member, request.POST or None)
    if request.method == "POST" and form.is_valid():
        invitation_accept(
            member=member,
            password=form.cleaned_data["new_password1"],
            display_name=form.cleaned_data["display_name"],
        )
        del request.session[_INVITATION_SESSION_KEY]
        login(request, member, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, f"Welcome to {request.tenant.name}'s team.")
        return redirect("inbox")
    return render(request, "dashboard/invitation_accept.html", {"form": form, "member": member})


def _invited_member(uidb64: str, token: str) -> User | None:
    try:
        pk = int(force_str(urlsafe_base64_decode(uidb64)))
    except (TypeError, ValueError, OverflowError):
        return None
    member = User.objects.filter(pk=pk, is_active=False).first()
    if member is None or not invitation_tokens.check_token(member, token):
        return None
    return member
