"""The inbox's list: its views (Mine, Unassigned, All open, Closed, Snoozed, one per label) with
their unread counts, search, pages of 50, bulk actions; labels (their page, and on a
conversation) and snoozing a conversation.

Every action is a plain form post that answers with a redirect; `inbox_list.js` keeps the list
right from the agent socket's frames and shows a selection bar.
"""

from datetime import datetime, timedelta

from django import forms
from django.contrib import messages
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from accounts.models import User
from accounts.roles import Capability
from core.errors import ParleyError
from dashboard.permissions import requires
from dashboard.views.inbox import conversation_or_404, tenant_sites
from widget.inbox import VIEWS, InboxFilter, inbox_counts, inbox_page
from widget.models import Label
from widget.services.conversations import (
    conversation_label_add,
    conversation_label_remove,
    conversation_snooze,
    conversation_unsnooze,
    conversations_bulk,
)
from widget.services.labels import label_create, label_delete, label_update

VIEW_NAMES = {
    "mine": "Mine",
    "unassigned": "Unassigned",
    "open": "All open",
    "closed": "Closed",
    "snoozed": "Snoozed",
}
SEARCH_MAX = 200


def _members() -> list[User]:
    return list(User.objects.filter(is_active=True).order_by("email"))


def _label_or_none(value) -> Label | None:
    try:
        return Label.objects.filter(pk=int(value)).first()
    except (TypeError, ValueError):
        return None


def _label_or_404(pk: int) -> Label:
    label = _label_or_none(pk)
    if label is None:
        raise Http404("No such label.")
    return label


@requires(Capability.INBOX)
@require_GET
def inbox(request):
    labels = list(Label.objects.all())
    label = _label_or_none(request.GET.get("label")) if request.GET.get("label") else None
    view = None if label else request.GET.get("view", "open")
    if view is not None and view not in VIEWS:
        view = "open"
    q = " ".join(request.GET.get("q", "").split())[:SEARCH_MAX]
    sites = tenant_sites(request)
    try:
        site_id = int(request.GET["site"]) if request.GET.get("site") else None
    except ValueError:
        site_id = None
    criteria = InboxFilter(
        view=view,
        label_id=label.pk if label else None,
        user_id=request.user.pk,
        site_id=site_id if site_id in sites else None,
        q=q,
    )
    try:
        page = inbox_page(criteria, cursor=request.GET.get("cursor") or None)
    except ParleyError:  # a cursor from nowhere: start again at the newest
        page = inbox_page(criteria)
    for conversation in page.conversations:
        conversation.site = sites.get(conversation.site_id)
    counts = inbox_counts(user_id=request.user.pk)
    here = {"view": view} if view else {"label": label.pk}
    if q:
        here["q"] = q
    if criteria.site_id:
        here["site"] = criteria.site_id
    return render(
        request,
        "dashboard/inbox.html",
        {
            "conversations": page.conversations,
            "next_cursor": page.next_cursor,
            "paged": bool(request.GET.get("cursor")),
            "views": [(key, name, counts[key]) for key, name in VIEW_NAMES.items()],
            "labels": [(item, counts.get(f"label:{item.pk}", 0)) for item in labels],
            "all_labels": labels,
            "view": view,
            "label": label,
            "q": q,
            "here": here,
            "sites": list(sites.values()),
            "site_id": criteria.site_id,
            "members": _members(),
            "title": label.name if label else VIEW_NAMES[view],
        },
    )


@requires(Capability.INBOX)
@require_GET
def inbox_counts_view(request):
    """The views' unread counts alone (`inbox_list.js` keeps the open page's numbers right with
    these, instead of fetching the whole page for them)."""
    return JsonResponse(inbox_counts(user_id=request.user.pk))


def _back_to_inbox(request):
    target = request.POST.get("next", "")
    if target.startswith("/") and not target.startswith("//"):
        return redirect(target)
    return redirect("inbox")


@requires(Capability.INBOX)
@require_POST
def inbox_bulk(request):
    """One POST for the selected rows (`ids`), or every row of the page (`all_on_page` with
    `page_ids`): assign (a member, or nobody), close, add a label."""
    source = "page_ids" if request.POST.get("all_on_page") else "ids"
    try:
        ids = [int(value) for value in request.POST.getlist(source)]
    except ValueError:
        ids = []
    action = request.POST.get("action", "")
    assignee = label = None
    if action == "assign" and request.POST.get("assignee"):
        assignee = User.objects.filter(pk=request.POST["assignee"], is_active=True).first()
        if assignee is None:
            messages.error(request, "Choose a member of the team.")
            return _back_to_inbox(request)
    if action == "label":
        label = _label_or_none(request.POST.get("label"))
    try:
        done = conversations_bulk(
            tenant_id=request.tenant.id,
            conversation_ids=ids,
            action=action,
            assignee=assignee,
            label=label,
        )
    except ParleyError as error:
        messages.error(request, error.message)
    else:
        what = {
            "assign": f"assigned to {assignee.public_name if assignee else 'nobody'}",
            "close": "closed",
            "label": f"labelled {label.name if label else ''}",
        }[action]
        messages.success(request, f"{done} conversation{'s' if done != 1 else ''} {what}.")
    return _back_to_inbox(request)


# --- Labels on a conversation, and snoozing it -------------------------------------------------


@requires(Capability.INBOX)
@require_POST
def conversation_label_add_view(request, pk: int):
    conversation, label = conversation_or_404(pk), _label_or_none(request.POST.get("label"))
    if label is None:
        messages.error(request, "Choose a label.")
    else:
        conversation_label_add(tenant_id=request.tenant.id, conversation=conversation, label=label)
        messages.success(request, f"Labelled {label.name}.")
    return redirect("conversation", pk=pk)


@requires(Capability.INBOX)
@require_POST
def conversation_label_remove_view(request, pk: int, label_pk: int):
    conversation, label = conversation_or_404(pk), _label_or_none(label_pk)
    if label is not None:
        conversation_label_remove(
            tenant_id=request.tenant.id, conversation=conversation, label=label
        )
        messages.success(request, f"Label {label.name} removed.")
    return redirect("conversation", pk=pk)


def snooze_choices(now: datetime) -> dict[str, datetime]:
    """The snooze presets in the agent's time zone (the one activated for the request): later
    today (in 3 hours), tomorrow at 9:00, next Monday at 9:00."""
    local = timezone.localtime(now)
    nine = local.replace(hour=9, minute=0, second=0, microsecond=0)
    return {
        "later": local + timedelta(hours=3),
        "tomorrow": nine + timedelta(days=1),
        "next_week": nine + timedelta(days=7 - local.weekday()),
    }


class SnoozeForm(forms.Form):
    until = forms.DateTimeField(
        required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )


@requires(Capability.INBOX)
@require_POST
def conversation_snooze_view(request, pk: int):
    conversation = conversation_or_404(pk)
    choice = request.POST.get("choice", "")
    until = snooze_choices(timezone.now()).get(choice)
    if until is None:
        form = SnoozeForm(request.POST)
        until = form.cleaned_data["until"] if form.is_valid() else None
        if until is None:
            messages.error(request, "Choose when the conversation comes back.")
            return redirect("conversation", pk=pk)
    try:
        conversation_snooze(tenant_id=request.tenant.id, conversation=conversation, until=until)
    except ParleyError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"Snoozed until {timezone.localtime(until):%b %-d, %H:%M}.")
    return redirect("conversation", pk=pk)


@requires(Capability.INBOX)
@require_POST
def conversation_unsnooze_view(request, pk: int):
    conversation_unsnooze(tenant_id=request.tenant.id, conversation=conversation_or_404(pk))
    messages.success(request, "Unsnoozed: the conversation is back in the inbox.")
    return redirect("conversation", pk=pk)


# --- The labels page (admins and owners) -------------------------------------------------------


@requires(Capability.LABELS)
def labels_page(request):
    if request.method == "POST":
        try:
            label = label_create(
                name=request.POST.get("name", ""), color=request.POST.get("color", "#64748b")
            )
        except ParleyError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, f"Label {label.name} created.")
        return redirect("labels")
    return render(request, "dashboard/labels.html", {"labels": list(Label.objects.all())})


@requires(Capability.LABELS)
@require_POST
def label_update_view(request, pk: int):
    label = _label_or_404(pk)
    try:
        label_update(label=label, name=request.POST.get("name"), color=request.POST.get("color"))
    except ParleyError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"Label {label.name} saved.")
    return redirect("labels")


@requires(Capability.LABELS)
@require_POST
def label_delete_view(request, pk: int):
    label = _label_or_404(pk)
    label_delete(label=label)
    messages.success(request, f"Label {label.name} deleted.")
    return redirect(reverse("labels"))
