"""`/api/v1/canned-replies`: the tenant's canned replies, as the dashboard's page manages them
(the same services, the same rules, the same audit entries)."""

from typing import Annotated

from django.http import HttpRequest
from django_tenants.utils import schema_context
from ninja import Path, Router, Status

from core.api import error_responses
from tenants.api.pagination import PageParams, page
from tenants.api.schemas import MAX_ID
from widget import selectors
from widget.services.canned_replies import (
    canned_reply_create,
    canned_reply_delete,
    canned_reply_update,
)
from widget.site_api.schemas import (
    CannedReplyIn,
    CannedReplyListOut,
    CannedReplyOut,
    CannedReplyPatch,
)

router = Router(tags=["canned replies"])
CannedReplyId = Annotated[int, Path(ge=1, le=MAX_ID)]
ERRORS = error_responses(400, 401, 404, 413, 429)
# 409: the shortcut is another reply's (whatever its case).
SAVE_ERRORS = error_responses(400, 401, 404, 409, 413, 429)


@router.get("/canned-replies", response={200: CannedReplyListOut, **ERRORS})
def canned_replies_list(request: HttpRequest, params: PageParams):
    """The tenant's canned replies, oldest first."""
    with schema_context(request.auth.tenant.schema_name):
        rows, next_cursor = page(selectors.canned_reply_list(), params)
        return {"data": [CannedReplyOut.from_orm(row) for row in rows], "next": next_cursor}


@router.post("/canned-replies", response={201: CannedReplyOut, **SAVE_ERRORS})
def canned_replies_create(request: HttpRequest, body: CannedReplyIn):
    tenant = request.auth.tenant
    with schema_context(tenant.schema_name):
        canned_reply = canned_reply_create(tenant=tenant, **body.model_dump())
        return Status(201, CannedReplyOut.from_orm(canned_reply))


@router.get("/canned-replies/{canned_reply_id}", response={200: CannedReplyOut, **ERRORS})
def canned_replies_get(request: HttpRequest, canned_reply_id: CannedReplyId):
    with schema_context(request.auth.tenant.schema_name):
        return CannedReplyOut.from_orm(selectors.canned_reply_get(canned_reply_id=canned_reply_id))


@router.patch("/canned-replies/{canned_reply_id}", response={200: CannedReplyOut, **SAVE_ERRORS})
def canned_replies_update(
    request: HttpRequest, canned_reply_id: CannedReplyId, body: CannedReplyPatch
):
    """Only the fields given change."""
    tenant = request.auth.tenant
    with schema_context(tenant.schema_name):
        canned_reply = canned_reply_update(
            tenant=tenant,
            canned_reply=selectors.canned_reply_get(canned_reply_id=canned_reply_id),
            **body.model_dump(exclude_unset=True),
        )
        return CannedReplyOut.from_orm(canned_reply)


@router.delete("/canned-replies/{canned_reply_id}", response={204: None, **ERRORS})
def canned_replies_delete(request: HttpRequest, canned_reply_id: CannedReplyId):
    tenant = request.auth.tenant
    with schema_context(tenant.schema_name):
        canned_reply_delete(
            tenant=tenant,
            canned_reply=selectors.canned_reply_get(canned_reply_id=canned_reply_id),
        )
    return Status(204, None)
