"""Signup on the platform host: a new tenant, its schema, its dashboard host and its owner."""

from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from accounts.login_links import login_link
from accounts.services import tenant_signup
from core.ratelimit import client_address
from dashboard.forms import SignupForm
from dashboard.middleware import dashboard_csp, tenant_hosts_source
from dashboard.throttle import signup_throttle, wait_phrase


# The post is answered with a redirect to the new tenant's host (a one-time sign-in link).
@dashboard_csp(form_targets=(tenant_hosts_source(),))
@require_http_methods(["GET", "POST"])
def signup(request):
    if request.method == "GET":
        return render(request, "dashboard/signup.html", {"form": SignupForm()})
    form = SignupForm(request.POST)
    throttle, address = signup_throttle(), client_address(request)
    wait = throttle.retry_after(address)
    if wait:
        form.is_valid()
        form.add_error(
            None, f"Too many signups from your network. Try again in {wait_phrase(wait)}."
        )
        return render(request, "dashboard/signup.html", {"form": form}, status=429)
    throttle.hit(address)
    if form.is_valid():
        try:
            tenant, owner = tenant_signup(**form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            # The session cookie belongs to the tenant's host: sign the owner in there.
            return redirect(login_link(tenant=tenant, user=owner))
    return render(request, "dashboard/signup.html", {"form": form}, status=400)
