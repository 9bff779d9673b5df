"""`/api/v1/webhooks`: the tenant's outbound webhooks and their delivery log."""

from typing import Annotated

from django.http import HttpRequest
from ninja import Path, Router, Status

from core.api import error_responses
from tenants import selectors, services
from tenants.api.pagination import PageParams, page
from tenants.api.schemas import (
    MAX_ID,
    DeliveryListOut,
    DeliveryOut,
    WebhookCreatedOut,
    WebhookIn,
    WebhookListOut,
    WebhookOut,
)

router = Router(tags=["webhooks"])
WebhookId = Annotated[int, Path(ge=1, le=MAX_ID)]
ERRORS = error_responses(400, 401, 404, 413, 429)


@router.get("/webhooks", response={200: WebhookListOut, **ERRORS})
def webhooks_list(request: HttpRequest, params: PageParams):
    webhooks, next_cursor = page(selectors.webhook_list(tenant=request.auth.tenant), params)
    return {"data": [WebhookOut.from_orm(webhook) for webhook in webhooks], "next": next_cursor}


@router.post("/webhooks", response={201: WebhookCreatedOut, **ERRORS})
def webhooks_create(request: HttpRequest, body: WebhookIn):
    webhook = services.webhook_create(tenant=request.auth.tenant, url=body.url, events=body.events)
    return Status(201, WebhookCreatedOut.from_orm(webhook))


@router.delete("/webhooks/{webhook_id}", response={204: None, **ERRORS})
def webhooks_delete(request: HttpRequest, webhook_id: WebhookId):
    services.webhook_delete(
        webhook=selectors.webhook_get(tenant=request.auth.tenant, webhook_id=webhook_id)
    )
    return Status(204, None)


@router.get("/webhooks/{webhook_id}/deliveries", response={200: DeliveryListOut, **ERRORS})
def webhooks_deliveries(request: HttpRequest, webhook_id: WebhookId, params: PageParams):
    webhook = selectors.webhook_get(tenant=request.auth.tenant, webhook_id=webhook_id)
    deliveries, next_cursor = page(
        selectors.webhook_deliveries(webhook=webhook), params, newest_first=True
    )
    return {"data": [DeliveryOut.from_orm(d) for d in deliveries], "next": next_cursor}
