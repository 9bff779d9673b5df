"""The platform host's front page: what Parley is, sign up, and "find my dashboard" by email."""

from django import forms
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from accounts.services import dashboards_send
from core.ratelimit import client_address
from dashboard.middleware import dashboard_csp
from dashboard.throttle import find_dashboard_throttle, wait_phrase


class FindDashboardForm(forms.Form):
    email = forms.EmailField(label="Your work email", max_length=254)


@dashboard_csp()
@require_http_methods(["GET"])
def landing(request):
    return render(request, "dashboard/landing.html", {"form": FindDashboardForm()})


@dashboard_csp()
@require_http_methods(["POST"])
def find_dashboard(request):
    form = FindDashboardForm(request.POST)
    throttle, address = find_dashboard_throttle(), client_address(request)
    if wait := throttle.retry_after(address):
        form.is_valid()
        form.add_error(
            None, f"Too many requests from your network. Try again in {wait_phrase(wait)}."
        )
        return render(request, "dashboard/landing.html", {"form": form}, status=429)
    if not form.is_valid():
        return render(request, "dashboard/landing.html", {"form": form}, status=400)
    throttle.hit(address)
    dashboards_send(email=form.cleaned_data["email"])
    return render(
        request,
        "dashboard/landing.html",
        {"form": FindDashboardForm(), "sent_to": form.cleaned_data["email"]},
    )
