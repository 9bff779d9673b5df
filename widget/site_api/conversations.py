"""`/api/v1/conversations` and `/api/v1/visitors`: the tenant's chats, in the tenant's schema.

Each view does its database work inside `schema_context(<the key's tenant>)` and returns data
already read, so nothing is evaluated after the connection is back on the public schema.
"""

import uuid
from typing import Annotated, Literal

from django.http import HttpRequest
from django_tenants.utils import schema_context
from ninja import Path, Query, Router, Status

from core.api import error_responses
from tenants.api.pagination import PageParams, page
from tenants.api.schemas import MAX_ID
from tenants.selectors import site_get
from widget import selectors
from widget.frames import message_of
from widget.inbox import InboxFilter, inbox_page
from widget.services.attachments import frames_attachments
from widget.services.erasure import visitor_erase
from widget.services.messages import message_post
from widget.services.visitor_data import visitor_export
from widget.site_api.schemas import (
    ConversationListOut,
    ConversationOut,
    MessageIn,
    MessageListOut,
    MessageOut,
)

router = Router(tags=["conversations"])
ConversationId = Annotated[int, Path(ge=1, le=MAX_ID)]
ERRORS = error_responses(400, 401, 404, 413, 429)
# 402: the plan's monthly messages are used up.
SEND_ERRORS = error_responses(400, 401, 402, 404, 413, 429)


def _message_out(message) -> MessageOut:
    return MessageOut.model_validate(message_of(message))


@router.get("/conversations", response={200: ConversationListOut, **ERRORS})
def conversations_list(
    request: HttpRequest,
    cursor: Annotated[str | None, Query(max_length=300)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    status: Annotated[Literal["open", "closed"] | None, Query()] = None,
    site: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    assignee: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    unassigned: bool = False,
    label: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    snoozed: bool | None = None,
):
    """Conversations where something was said, most recently active first (`cursor` is the
    `next` of the previous page). `q` searches message text (PostgreSQL full text, `simple`
    configuration, web search syntax: words, "a phrase", -word) and visitors' names and emails;
    each row then has `headline`, an HTML fragment with everything escaped and the matches in
    `<mark>`. Filters combine: `status`, `site`, `assignee` (a member's id) or `unassigned`,
    `label` (a label's id), `snoozed` (true: snoozed now; false: not)."""
    tenant = request.auth.tenant
    if site is not None:
        site_get(tenant=tenant, site_id=site)  # another tenant's site: 404, as a missing one
    criteria = InboxFilter(
        view=None,
        site_id=site,
        status=status,
        assignee_id=assignee,
        unassigned=unassigned,
        label_id=label,
        snoozed=snoozed,
        q=" ".join((q or "").split()),
        any_status=True,
    )
    with schema_context(tenant.schema_name):
        found = inbox_page(criteria, cursor=cursor, limit=limit)
        return {
            "data": [ConversationOut.from_orm(row) for row in found.conversations],
            "next": found.next_cursor,
        }


@router.get("/conversations/{conversation_id}/messages", response={200: MessageListOut, **ERRORS})
def messages_list(request: HttpRequest, conversation_id: ConversationId, params: PageParams):
    with schema_context(request.auth.tenant.schema_name):
        conversation = selectors.conversation_get(conversation_id=conversation_id)
        rows, next_cursor = page(selectors.message_list(conversation=conversation), params)
        found = frames_attachments([message_of(row) for row in rows])
        return {"data": [MessageOut.model_validate(frame) for frame in found], "next": next_cursor}


@router.post(
    "/conversations/{conversation_id}/messages",
    response={200: MessageOut, 201: MessageOut, **SEND_ERRORS},
)
def messages_send(request: HttpRequest, conversation_id: ConversationId, body: MessageIn):
    """Send as an agent or a bot (`author.kind` "agent", or "system" for automated notices).
    The same `client_id` twice stores one message (200 the second time). Counts toward the
    plan's monthly messages: past them, 402 `plan_limit` and nothing is stored."""
    tenant = request.auth.tenant
    author = body.author.model_dump() if body.author else {"kind": "agent", "id": "", "name": ""}
    with schema_context(tenant.schema_name):
        conversation = selectors.conversation_get(conversation_id=conversation_id)
        message, created = message_post(
            tenant_id=tenant.id,
            conversation=conversation,
            text=body.text,
            author_kind=author["kind"],
            author_id=author["id"] or f"api:{request.auth.prefix}",
            author_name=author["name"] or tenant.name,
            client_id=body.client_id,
            private=body.private,
            attachment_ids=tuple(body.attachments),
            uploader_id=f"api:{request.auth.prefix}",
        )
        return Status(201 if created else 200, _message_out(message))


@router.get("/visitors/{visitor_id}/export", response={200: dict, **ERRORS}, tags=["visitors"])
def visitors_export(request: HttpRequest, visitor_id: uuid.UUID):
    """Everything kept about the visitor, as they may ask for it: their record, each of their
    conversations with its messages (private notes marked), ratings, files (described) and what
    they wrote in public rooms."""
    tenant = request.auth.tenant
    with schema_context(tenant.schema_name):
        return visitor_export(visitor=selectors.visitor_get(visitor_id=visitor_id))


@router.delete("/visitors/{visitor_id}", response={204: None, **ERRORS}, tags=["visitors"])
def visitors_erase(request: HttpRequest, visitor_id: uuid.UUID):
    tenant = request.auth.tenant
    with schema_context(tenant.schema_name):
        visitor_erase(tenant_id=tenant.id, visitor=selectors.visitor_get(visitor_id=visitor_id))
    return Status(204, None)
