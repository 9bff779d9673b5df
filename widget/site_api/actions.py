"""What an agent does to a conversation, through the site-key API: assign it, close and reopen
it, snooze it, put labels on it, the same to many at once; and the team and the labels those
actions name (`/members`, `/labels`).

The same services as the dashboard's conversation page, so the agents' open inboxes change live
and the webhooks fire as when a person acts. Notes are messages: `POST
/conversations/{id}/messages` with `"private": true`.
"""

from typing import Annotated

from django.http import HttpRequest
from django_tenants.utils import schema_context
from ninja import Path, Router, Status

from accounts.selectors import member_get, member_list
from core.api import error_responses
from tenants.api.pagination import PageParams, page
from tenants.api.schemas import MAX_ID
from widget import hot_sql, selectors
from widget.mail.transcripts import transcript_request
from widget.services import conversations as actions
from widget.services.labels import label_create, label_delete, label_update
from widget.site_api.schemas import (
    AssigneeIn,
    BulkIn,
    BulkOut,
    ConversationOut,
    LabelIn,
    LabelListOut,
    LabelOut,
    LabelPatch,
    MemberListOut,
    MemberOut,
    SnoozeIn,
    TranscriptOut,
)

router = Router(tags=["conversations"])
ConversationId = Annotated[int, Path(ge=1, le=MAX_ID)]
LabelId = Annotated[int, Path(ge=1, le=MAX_ID)]
ERRORS = error_responses(400, 401, 404, 413, 429)


def _member(member_id: int | None):
    """The member to assign, or None for nobody; another tenant's member id is a missing one."""
    return None if member_id is None else member_get(member_id=member_id)


@router.put("/conversations/{conversation_id}/assignee", response={200: ConversationOut, **ERRORS})
def conversation_assign(request: HttpRequest, conversation_id: ConversationId, body: AssigneeIn):
    """Give the conversation to an active member (`member_id`), or to nobody (null)."""
    tenant = request.auth.tenant
    with schema_context(tenant.schema_name):
        conversation = selectors.conversation_get(conversation_id=conversation_id)
        fresh = actions.conversation_assign(
            tenant_id=tenant.id, conversation=conversation, assignee=_member(body.member_id)
        )
        return ConversationOut.from_orm(fresh)


@router.post("/conversations/{conversation_id}/close", response={200: ConversationOut, **ERRORS})
def conversation_close(request: HttpRequest, conversation_id: ConversationId):
    """Close it (a snooze ends; the visitor's next message reopens it). Closing a closed
    conversation changes nothing and answers the same."""
    tenant = request.auth.tenant
    with schema_context(tenant.schema_name):
        conversation = selectors.conversation_get(conversation_id=conversation_id)
        actions.conversation_close(tenant_id=tenant.id, conversation=conversation)
        hot_sql.room_list_state(conversation)
        return ConversationOut.from_orm(conversation)


@router.post("/conversations/{conversation_id}/transcript", response={202: TranscriptOut, **ERRORS})
def conversation_transcript(request: HttpRequest, conversation_id: ConversationId):
    """Email the conversation (but private notes) to its visitor's address, within a minute:
    400 `no_email` when the visitor left none; 429 `transcript_recent` within 10 minutes of the
    last one sent."""
    tenant = request.auth.tenant
    with schema_context(tenant.schema_name):
        conversation = selectors.conversation_get(conversation_id=conversation_id)
        return Status(202, TranscriptOut(email=transcript_request(conversation=conversation)))


@router.post("/conversations/{conversation_id}/reopen", response={200: ConversationOut, **ERRORS})
def conversation_reopen(request: HttpRequest, conversation_id: ConversationId):
    tenant = request.auth.tenant
    with schema_context(tenant.schema_name):
        conversation = selectors.conversation_get(conversation_id=conversation_id)
        fresh = actions.conversation_reopen(tenant_id=tenant.id, conversation=conversation)
        return ConversationOut.from_orm(fresh)


@router.put("/conversations/{conversation_id}/snooze", response={200: ConversationOut, **ERRORS})
def conversation_snooze(request: HttpRequest, conversation_id: ConversationId, body: SnoozeIn):
    """Hide an open conversation from the open views until `until`; the visitor's next message
    wakes it sooner. 400 for a time without an offset, in the past, or a closed conversation."""
    tenant = request.auth.tenant
    with schema_context(tenant.schema_name):
        conversation = selectors.conversation_get(conversation_id=conversation_id)
        fresh = actions.conversation_snooze(
            tenant_id=tenant.id, conversation=conversation, until=body.until
        )
        return ConversationOut.from_orm(fresh)


@router.delete("/conversations/{conversation_id}/snooze", response={200: ConversationOut, **ERRORS})
def conversation_unsnooze(request: HttpRequest, conversation_id: ConversationId):
    tenant = request.auth.tenant
    with schema_context(tenant.schema_name):
        conversation = selectors.conversation_get(conversation_id=conversation_id)
        fresh = actions.conversation_unsnooze(tenant_id=tenant.id, conversation=conversation)
        return ConversationOut.from_orm(fresh)


@router.put(
    "/conversations/{conversation_id}/labels/{label_id}",
    response={200: ConversationOut, **ERRORS},
)
def conversation_label_add(
    request: HttpRequest, conversation_id: ConversationId, label_id: LabelId
):
    """Put the label on the conversation (already there: nothing changes)."""
    tenant = request.auth.tenant
    with schema_context(tenant.schema_name):
        conversation = selectors.conversation_get(conversation_id=conversation_id)
        fresh = actions.conversation_label_add(
            tenant_id=tenant.id,
            conversation=conversation,
            label=selectors.label_get(label_id=label_id),
        )
        return ConversationOut.from_orm(fresh)


@router.delete(
    "/conversations/{conversation_id}/labels/{label_id}",
    response={200: ConversationOut, **ERRORS},
)
def conversation_label_remove(
    request: HttpRequest, conversation_id: ConversationId, label_id: LabelId
):
    tenant = request.auth.tenant
    with schema_context(tenant.schema_name):
        conversation = selectors.conversation_get(conversation_id=conversation_id)
        fresh = actions.conversation_label_remove(
            tenant_id=tenant.id,
            conversation=conversation,
            label=selectors.label_get(label_id=label_id),
        )
        return ConversationOut.from_orm(fresh)


@router.post("/conversations/bulk", response={200: BulkOut, **ERRORS})
def conversations_bulk(request: HttpRequest, body: BulkIn):
    """One action on up to 100 conversations in one transaction: `assign` (to `member_id`, null
    for nobody), `close`, or `label` (add `label_id`). Ids the tenant has no conversation for
    are skipped; `changed` counts the others."""
    tenant = request.auth.tenant
    with schema_context(tenant.schema_name):
        assignee = _member(body.member_id) if body.action == "assign" else None
        label = None
        if body.action == "label":
            label = None if body.label_id is None else selectors.label_get(label_id=body.label_id)
        changed = actions.conversations_bulk(
            tenant_id=tenant.id,
            conversation_ids=body.ids,
            action=body.action,
            assignee=assignee,
            label=label,
        )
        return {"changed": changed}


# --- The labels and the team ----------------------------------------------------------------


@router.get("/labels", response={200: LabelListOut, **ERRORS}, tags=["labels"])
def labels_list(request: HttpRequest, params: PageParams):
    """The tenant's labels, oldest first."""
    with schema_context(request.auth.tenant.schema_name):
        rows, next_cursor = page(selectors.label_list(), params)
        return {"data": [LabelOut.from_orm(row) for row in rows], "next": next_cursor}


@router.post("/labels", response={201: LabelOut, **ERRORS}, tags=["labels"])
def labels_create(request: HttpRequest, body: LabelIn):
    """400 when the name is another label's, whatever its case."""
    with schema_context(request.auth.tenant.schema_name):
        return Status(201, LabelOut.from_orm(label_create(**body.model_dump())))


@router.patch("/labels/{label_id}", response={200: LabelOut, **ERRORS}, tags=["labels"])
def labels_update(request: HttpRequest, label_id: LabelId, body: LabelPatch):
    """Only the fields given change."""
    with schema_context(request.auth.tenant.schema_name):
        label = label_update(
            label=selectors.label_get(label_id=label_id), **body.model_dump(exclude_unset=True)
        )
        return LabelOut.from_orm(label)


@router.delete("/labels/{label_id}", response={204: None, **ERRORS}, tags=["labels"])
def labels_delete(request: HttpRequest, label_id: LabelId):
    """Its conversations lose it; nothing else changes."""
    with schema_context(request.auth.tenant.schema_name):
        label_delete(label=selectors.label_get(label_id=label_id))
    return Status(204, None)


@router.get("/members", response={200: MemberListOut, **ERRORS}, tags=["members"])
def members_list(request: HttpRequest, params: PageParams):
    """The team, in id order: who a conversation can be assigned to (`active`)."""
    with schema_context(request.auth.tenant.schema_name):
        rows, next_cursor = page(member_list(), params)
        return {
            "data": [
                MemberOut(
                    id=m.pk, name=m.public_name, email=m.email, role=m.role, active=m.is_active
                )
                for m in rows
            ],
            "next": next_cursor,
        }
