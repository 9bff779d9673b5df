"""A visitor's data on request: a JSON download of everything kept about them, and their erasure
(widget.services.visitor_data, widget.services.erasure), for admins and owners."""

import orjson
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_GET, require_POST

from accounts.roles import Capability
from core.errors import NotFound
from dashboard.permissions import requires
from widget.selectors import visitor_get
from widget.services.erasure import visitor_erase
from widget.services.visitor_data import visitor_export


def _visitor_or_404(visitor_id):
    try:
        return visitor_get(visitor_id=visitor_id)
    except NotFound:
        raise Http404("No visitor has this id.") from None


@requires(Capability.VISITOR_DATA)
@require_GET
def visitor_data_export(request, visitor_id):
    visitor = _visitor_or_404(visitor_id)
    response = HttpResponse(
        orjson.dumps(visitor_export(visitor=visitor), option=orjson.OPT_INDENT_2),
        content_type="application/json",
    )
    response["Content-Disposition"] = f'attachment; filename="visitor-{visitor.pk}.json"'
    response["Cache-Control"] = "no-store"
    return response


@requires(Capability.VISITOR_DATA)
@require_POST
def visitor_data_erase(request, visitor_id):
    visitor = _visitor_or_404(visitor_id)
    visitor_erase(tenant_id=request.tenant.id, visitor=visitor)
    messages.success(request, "The visitor and everything they wrote are erased.")
    return redirect("inbox")
