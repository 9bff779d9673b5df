"""The inbox: the tenant's conversations, one conversation, and the agent's actions on it.

Every action is a plain form post, so the inbox works without its socket; `inbox.js` makes the
same pages live over `ws/agent/` when the socket is there.
"""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from accounts.models import User
from accounts.roles import Capability
from core.errors import ParleyError
from dashboard.forms import AssignForm, ReplyForm
from dashboard.permissions import requires
from tenants.models import Site
from widget.assets import WidgetNotBuiltError, emoji_asset, markdown_asset
from widget.mail.transcripts import transcript_request
from widget.models import Conversation, Label, Message
from widget.selectors import (
    canned_replies_filled,
    inbox_conversation,
    messages_latest,
    rating_of,
    visitor_has_seen,
    visitor_other_conversations,
)
from widget.services.attachments import attachments_out_by_message
from widget.services.conversations import (
    conversation_assign,
    conversation_close,
    conversation_mark_read,
    conversation_reopen,
)
from widget.services.messages import message_post


def tenant_sites(request) -> dict[int, Site]:
    """The tenant's sites by id, by name (the inbox's pages name a conversation's site)."""
    return {site.id: site for site in Site.objects.filter(tenant=request.tenant).order_by("name")}


# The conversation page opens with this many latest messages; older ones load as the agent
# scrolls up (the agent socket's `history` frame).
HISTORY_PAGE_SIZE = 50


def _agent(user: User) -> dict:
    """The member as the author of messages and read marks (the wire contract's `author`)."""
    return {"kind": Message.AuthorKind.AGENT, "id": str(user.pk), "name": user.public_name}


def emoji_script() -> str:
    """The URL of the emoji picker under its content's hash; "" when it is not built (the reply
    box then has no emoji button)."""
    try:
        return reverse("widget_emoji", args=[emoji_asset().etag])
    except WidgetNotBuiltError:
        return ""


def markdown_script() -> str:
    """The URL of the widget's message formatting under its content's hash; "" when it is not
    built (the page then shows messages as the plain text they were typed)."""
    try:
        return reverse("widget_markdown", args=[markdown_asset().etag])
    except WidgetNotBuiltError:
        return ""


def conversation_or_404(pk: int) -> Conversation:
    """The tenant's conversation (with its visitor and assignee), for the inbox's views."""
    conversation = inbox_conversation(conversation_id=pk)
    if conversation is None:
        raise Http404("No such conversation.")
    return conversation


@requires(Capability.INBOX)
@require_GET
def conversation_detail(request, pk: int):
    conversation = conversation_or_404(pk)
    history, has_more = messages_latest(
        conversation=conversation, limit=HISTORY_PAGE_SIZE, with_private=True
    )
    if history:
        conversation_mark_read(
            tenant_id=request.tenant.id,
            conversation=conversation,
            reader=_agent(request.user),
            up_to=history[-1].id,
        )
    files = attachments_out_by_message(message.id for message in history)
    for message in history:
        message.files = files.get(message.id, [])
    labels = list(conversation.labels.all())
    site = tenant_sites(request).get(conversation.site_id)
    return render(
        request,
        "dashboard/conversation.html",
        {
            "conversation": conversation,
            "site": site,
            "history": history,
            "has_more": has_more,
            # The side panel (dashboard/_visitor_panel.html) and the visitor's "Seen".
            "past_conversations": visitor_other_conversations(conversation=conversation),
            "visitor_seen": visitor_has_seen(conversation=conversation, messages=history),
            # Its labels, and the team's others to add (dashboard/_conversation_labels.html).
            "labels": labels,
            "labels_addable": [label for label in Label.objects.all() if label not in labels],
            "reply_form": ReplyForm(),
            # Bold, italic, code and links as the widget shows them (inbox.js formats with it).
            "markdown_script": markdown_script(),
            # The reply box's emoji picker, loaded when it is first opened (emoji.js).
            "emoji_script": emoji_script(),
            # What `/shortcut` in the composer inserts (canned_replies.js), filled in for this
            # visitor and this agent.
            "canned_replies": canned_replies_filled(
                conversation=conversation,
                agent_name=request.user.public_name,
                site_name=site.name if site else "",
            ),
            "assign_form": AssignForm(initial={"assignee": conversation.assignee_id}),
            "rating": rating_of(conversation=conversation),
        },
    )


@requires(Capability.INBOX)
@require_POST
def conversation_reply(request, pk: int):
    conversation = conversation_or_404(pk)
    form = ReplyForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, " ".join(errors))
        return redirect("conversation", pk=pk)
    agent = _agent(request.user)
    try:
        message, _ = message_post(
            tenant_id=request.tenant.id,
            conversation=conversation,
            text=form.cleaned_data["text"],
            author_kind=agent["kind"],
            author_id=agent["id"],
            author_name=agent["name"],
            client_id=form.cleaned_data["client_id"],
            private=form.cleaned_data["private"],
            attachment_ids=form.attachment_ids,
        )
    except ParleyError as error:  # past the plan's messages this month, say: nothing was stored
        messages.error(request, error.message)
        return redirect("conversation", pk=pk)
    conversation_mark_read(
        tenant_id=request.tenant.id,
        conversation=conversation,
        reader=_agent(request.user),
        up_to=message.id,
    )
    return redirect("conversation", pk=pk)


@requires(Capability.INBOX)
@require_POST
def conversation_close_view(request, pk: int):
    conversation_close(tenant_id=request.tenant.id, conversation=conversation_or_404(pk))
    messages.success(request, "Conversation closed.")
    return redirect("conversation", pk=pk)


@requires(Capability.INBOX)
@require_POST
def conversation_transcript_view(request, pk: int):
    try:
        email = transcript_request(conversation=conversation_or_404(pk))
    except ParleyError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"The transcript is on its way to {email}.")
    return redirect("conversation", pk=pk)


@requires(Capability.INBOX)
@require_POST
def conversation_reopen_view(request, pk: int):
    conversation_reopen(tenant_id=request.tenant.id, conversation=conversation_or_404(pk))
    messages.success(request, "Conversation reopened.")
    return redirect("conversation", pk=pk)


@requires(Capability.INBOX)
@require_POST
def conversation_assign_view(request, pk: int):
    conversation = conversation_or_404(pk)
    form = AssignForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a member of the team.")
        return redirect("conversation", pk=pk)
    assignee = form.cleaned_data["assignee"]
    try:
        conversation_assign(
            tenant_id=request.tenant.id, conversation=conversation, assignee=assignee
        )
    except ParleyError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"Assigned to {assignee.public_name if assignee else 'nobody'}.")
    return redirect("conversation", pk=pk)
