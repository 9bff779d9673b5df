"""The Canned replies page: every member reads the team's replies (they insert them with
`/shortcut` in the composer, `canned_replies.js`); admins and owners create, change and delete
them. The same services as `/api/v1/canned-replies`: the same rules and audit entries.

A refused save shows the form again with what was typed and the reason beside its field.
"""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from accounts.roles import Capability, user_can
from core.errors import ParleyError
from dashboard.permissions import requires
from widget.canned_variables import VARIABLES
from widget.models import CannedReply
from widget.selectors import canned_reply_get, canned_reply_list
from widget.services.canned_replies import (
    BODY_MAX,
    SHORTCUT_MAX,
    TITLE_MAX,
    canned_reply_create,
    canned_reply_delete,
    canned_reply_update,
)


class CannedReplyForm(forms.Form):
    """Required fields and lengths for the browser; what a shortcut may be and which variables
    exist, the services say (their message goes beside the field it names)."""

    shortcut = forms.CharField(
        max_length=SHORTCUT_MAX + 1,  # with the "/" people type
        help_text="Typed after / in a reply: letters, digits, - and _.",
        widget=forms.TextInput(
            attrs={"placeholder": "hello", "autocapitalize": "none", "spellcheck": "false"}
        ),
    )
    title = forms.CharField(max_length=TITLE_MAX)
    body = forms.CharField(
        label="Text",
        max_length=BODY_MAX,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="Bold, italic, code and links as in messages; variables are filled in when "
        "the reply is inserted.",
    )


def _form_error(form: CannedReplyForm, error: ParleyError) -> None:
    field, _, message = error.message.partition(": ")
    if field in form.fields and message:
        form.add_error(field, message)
    elif error.code == "conflict":
        form.add_error("shortcut", error.message)
    else:
        form.add_error(None, error.message)


def _reply_or_404(pk: int) -> CannedReply:
    try:
        return canned_reply_get(canned_reply_id=pk)
    except ParleyError:
        raise Http404("No such canned reply.") from None


def _variables() -> list[tuple[str, str]]:
    return [(f"{{{{{name}}}}}", meaning) for name, meaning in VARIABLES.items()]


@requires(Capability.INBOX)
@require_http_methods(["GET", "POST"])
def canned_replies_page(request):
    may_manage = user_can(request.user, Capability.CANNED_REPLIES)
    form = CannedReplyForm()
    status = 200
    if request.method == "POST":
        if not may_manage:
            raise PermissionDenied("Your role may not manage canned replies.")
        form = CannedReplyForm(request.POST)
        if form.is_valid():
            try:
                canned_reply = canned_reply_create(
                    tenant=request.tenant, created_by=request.user, **form.cleaned_data
                )
            except ParleyError as error:
                _form_error(form, error)
            else:
                messages.success(request, f"Canned reply {canned_reply} created.")
                return redirect("canned_replies")
        status = 400
    context = {
        "canned_replies": list(canned_reply_list().select_related("created_by")),
        "form": form,
        "may_manage": may_manage,
        "variables": _variables(),
    }
    return render(request, "dashboard/canned_replies.html", context, status=status)


@requires(Capability.CANNED_REPLIES)
@require_http_methods(["GET", "POST"])
def canned_reply_page(request, pk: int):
    canned_reply = _reply_or_404(pk)
    status = 200
    if request.method == "POST":
        form = CannedReplyForm(request.POST)
        if form.is_valid():
            try:
                canned_reply_update(
                    tenant=request.tenant, canned_reply=canned_reply, **form.cleaned_data
                )
            except ParleyError as error:
                _form_error(form, error)
            else:
                messages.success(request, f"Canned reply {canned_reply} saved.")
                return redirect("canned_replies")
        status = 400
    else:
        form = CannedReplyForm(
            initial={
                "shortcut": canned_reply.shortcut,
                "title": canned_reply.title,
                "body": canned_reply.body,
            }
        )
    context = {"canned_reply": canned_reply, "form": form, "variables": _variables()}
    return render(request, "dashboard/canned_reply.html", context, status=status)


@requires(Capability.CANNED_REPLIES)
@require_POST
def canned_reply_delete_view(request, pk: int):
    canned_reply = _reply_or_404(pk)
    canned_reply_delete(tenant=request.tenant, canned_reply=canned_reply)
    messages.success(request, f"Canned reply {canned_reply} deleted.")
    return redirect("canned_replies")
