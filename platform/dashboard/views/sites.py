"""Sites: create and edit, the embed snippet, key rotation, the identity secret (shown once)."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.roles import Capability
from core.errors import PlanLimit
from dashboard.forms import SiteForm
from dashboard.permissions import requires
from dashboard.responses import shown_once
from tenants.models import Site
from tenants.origins import InvalidOrigin
from tenants.selectors import site_current_key
from tenants.services import site_create, site_new_identity_secret, site_rotate_key, site_update
from widget.assets import WidgetNotBuiltError, preview_asset
from widget.selectors import ratings_of_site


def _site_or_404(request, pk: int) -> Site:
    return get_object_or_404(Site, pk=pk, tenant=request.tenant)


def embed_snippet(site_key: str) -> str:
    src = settings.PLATFORM_URL.rstrip("/") + "/widget.js"
    return f'<script src="{src}" data-site-key="{site_key}" async></script>'


def preview_script() -> str:
    """The URL of the widget's preview, under its content's hash; "" when it is not built (the
    page then shows the settings without the preview)."""
    try:
        return reverse("widget_preview", args=[preview_asset().etag])
    except WidgetNotBuiltError:
        return ""


def _site_page(request, site: Site, *, form: SiteForm | None = None, **extra):
    key = site_current_key(site)
    context = {
        "site": site,
        "form": form or SiteForm(initial=SiteForm.initial_for(site)),
        "site_key": key,
        "snippet": embed_snippet(key.key) if key else "",
        "keys": site.keys.order_by("-created_at", "-id"),
        "preview_script": preview_script(),
        "rating": ratings_of_site(site_id=site.pk),
        **extra,
    }
    return render(request, "dashboard/site.html", context, status=400 if form else 200)


def _save_errors(form: SiteForm, error: Exception) -> None:
    if isinstance(error, InvalidOrigin):
        form.add_error("allowed_origins", str(error))
    else:
        form.add_error(None, error)


@requires(Capability.SITES)
@require_GET
def site_list(request):
    sites = list(Site.objects.filter(tenant=request.tenant).order_by("name"))
    for site in sites:
        site.current_key = site_current_key(site)
    return render(request, "dashboard/sites.html", {"sites": sites})


@requires(Capability.SITES)
@require_http_methods(["GET", "POST"])
def site_new(request):
    form = SiteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            site = site_create(tenant=request.tenant, **form.cleaned_data)
        except (InvalidOrigin, ValidationError) as error:
            _save_errors(form, error)
        except PlanLimit as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, f"Site “{site.name}” created. Paste the snippet below.")
            return redirect("site", pk=site.pk)
    status = 400 if form.is_bound else 200
    context = {"form": form, "preview_script": preview_script()}
    return render(request, "dashboard/site_new.html", context, status=status)


@requires(Capability.SITES)
@require_http_methods(["GET", "POST"])
def site_detail(request, pk: int):
    site = _site_or_404(request, pk)
    if request.method == "GET":
        return _site_page(request, site)
    form = SiteForm(request.POST)
    if form.is_valid():
        try:
            site_update(site=site, **form.cleaned_data)
        except (InvalidOrigin, ValidationError) as error:
            _save_errors(form, error)
        else:
            messages.success(request, "Site saved.")
            return redirect("site", pk=site.pk)
    site.refresh_from_db()
    return _site_page(request, site, form=form)


@requires(Capability.SITES)
@require_POST
def site_rotate_key_view(request, pk: int):
    site = _site_or_404(request, pk)
    site_rotate_key(site=site)
    hours = settings.SITE_KEY_GRACE_SECONDS // 3600
    messages.success(
        request,
        f"New site key issued. The previous key keeps working for {hours} hours: "
        "update the snippet on your pages before then.",
    )
    return redirect("site", pk=site.pk)


@requires(Capability.SITES)
@require_POST
def site_identity_secret_view(request, pk: int):
    """A new identity secret, shown in this response only: it is never displayed again."""
    site = _site_or_404(request, pk)
    secret = site_new_identity_secret(site=site)
    return shown_once(_site_page(request, site, identity_secret=secret))
