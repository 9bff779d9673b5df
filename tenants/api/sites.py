"""`/api/v1/sites`: a tenant's websites, their keys and identity secrets."""

from typing import Annotated

from django.http import HttpRequest
from ninja import Path, Router, Status

from core.api import error_responses
from tenants import selectors, services
from tenants.api.pagination import PageParams, page
from tenants.api.schemas import (
    MAX_ID,
    IdentitySecretOut,
    RotateKeyIn,
    SiteCreatedOut,
    SiteIn,
    SiteListOut,
    SiteOut,
    SitePatch,
)

router = Router(tags=["sites"])
SiteId = Annotated[int, Path(ge=1, le=MAX_ID)]
ERRORS = error_responses(400, 401, 404, 413, 429)
CREATE_ERRORS = error_responses(400, 401, 402, 404, 413, 429)  # 402: the plan's sites


def site_out(site, schema=SiteOut, **extra):
    keys = selectors.site_live_keys(site)
    return schema.model_validate(
        {
            **{field: getattr(site, field) for field in ("id", "created_at", "updated_at")},
            **{field: getattr(site, field) for field in services.SITE_EDITABLE},
            "site_key": keys[0].key if keys else None,
            "keys": [
                {"key": key.key, "created_at": key.created_at, "expires_at": key.expires_at}
                for key in keys
            ],
            **extra,
        }
    )


@router.get("/sites", response={200: SiteListOut, **ERRORS})
def sites_list(request: HttpRequest, params: PageParams):
    sites, next_cursor = page(selectors.site_list(tenant=request.auth.tenant), params)
    return {"data": [site_out(site) for site in sites], "next": next_cursor}


@router.post("/sites", response={201: SiteCreatedOut, **CREATE_ERRORS})
def sites_create(request: HttpRequest, body: SiteIn):
    site = services.site_create(tenant=request.auth.tenant, **body.model_dump(exclude_none=True))
    site = selectors.site_get(tenant=request.auth.tenant, site_id=site.id)
    return Status(201, site_out(site, SiteCreatedOut, identity_secret=site.identity_secret))


@router.get("/sites/{site_id}", response={200: SiteOut, **ERRORS})
def sites_read(request: HttpRequest, site_id: SiteId):
    return site_out(selectors.site_get(tenant=request.auth.tenant, site_id=site_id))


@router.patch("/sites/{site_id}", response={200: SiteOut, **ERRORS})
def sites_update(request: HttpRequest, site_id: SiteId, body: SitePatch):
    site = selectors.site_get(tenant=request.auth.tenant, site_id=site_id)
    return site_out(services.site_update(site=site, **body.model_dump(exclude_unset=True)))


@router.delete("/sites/{site_id}", response={204: None, **ERRORS})
def sites_delete(request: HttpRequest, site_id: SiteId):
    services.site_delete(site=selectors.site_get(tenant=request.auth.tenant, site_id=site_id))
    return Status(204, None)


@router.post("/sites/{site_id}/rotate-key", response={200: SiteOut, **ERRORS})
def sites_rotate_key(request: HttpRequest, site_id: SiteId, body: RotateKeyIn | None = None):
    site = selectors.site_get(tenant=request.auth.tenant, site_id=site_id)
    grace = body.grace_seconds if body is not None else RotateKeyIn().grace_seconds
    services.site_rotate_key(site=site, grace_seconds=grace)
    return site_out(selectors.site_get(tenant=request.auth.tenant, site_id=site_id))


@router.post("/sites/{site_id}/identity-secret", response={200: IdentitySecretOut, **ERRORS})
def sites_identity_secret(request: HttpRequest, site_id: SiteId):
    site = selectors.site_get(tenant=request.auth.tenant, site_id=site_id)
    return {"identity_secret": services.site_new_identity_secret(site=site)}
