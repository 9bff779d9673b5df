"""Uploading a visitor's file (`POST /api/widget/v1/attachments`) and serving every file
(`GET /files/<signed token>`), on the platform host.

Uploads are plain Django views, not the widget's JSON API: the body is multipart, read through
`uploads` so that it is never held in memory nor read past its limit, and its image work runs
here, in the request's sync thread (core/http_threads.py), never on the event loop.

Files are served with everything a browser needs to treat them as inert data: `nosniff`, a
sandboxing policy with no source allowed, and `Content-Disposition: attachment` for everything
but the safe raster images (never SVG, which Parley stores as text anyway).
"""

import uuid

from django.conf import settings
from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST, require_safe
from django_tenants.utils import schema_context

from core.errors import (
    InvalidToken,
    NotFound,
    OriginNotAllowed,
    ParleyError,
    RateLimited,
)
from core.http_errors import error_answer
from core.ratelimit import client_address, retry_after_seconds
from tenants.api.auth import ApiKeyAuth
from tenants.billing.limits import plan_for
from tenants.models import Tenant
from tenants.origins import origin_allowed
from tenants.selectors import site_attachment_types
from tenants.site_directory import site_for_key
from tenants.status import ensure_active
from tenants.tokens import bearer_token, token_verify
from widget.attachments import content, links, uploads
from widget.budgets import upload_take
from widget.cors import cors_allow
from widget.models import Attachment, Conversation, Visitor
from widget.services.attachments import attachment_storage, attachment_store

FILE_POLICY = "sandbox; default-src 'none'"


def attachment_limit(tenant_id: int) -> int:
    """The largest file this tenant's uploads may be: the installation's, or its plan's."""
    return min(settings.ATTACHMENT_MAX_BYTES, plan_for(tenant_id).attachment_max_bytes)


@csrf_exempt  # no cookie is involved: the visitor token is a header
@require_POST
def visitor_upload(request: HttpRequest) -> HttpResponse:
    try:
        return _visitor_upload(request)
    except ParleyError as error:
        response = error_answer(error)
        response["Cache-Control"] = "no-store"
        return response


def _visitor_upload(request: HttpRequest) -> HttpResponse:
    site = site_for_key(request.GET.get("site_key", "")[:64])
    if not origin_allowed(request.headers.get("Origin"), list(site.allowed_origins)):
        raise OriginNotAllowed()
    cors_allow(request)  # from here on, even an error answer is readable by the page
    ensure_active(site.tenant_id)
    token = token_verify(bearer_token(request.headers.get("Authorization")))
    if token.tenant_id != site.tenant_id or token.site_id != site.site_id:
        raise InvalidToken("This token is for another site.")
    uploads.prepare(request, attachment_limit(site.tenant_id))
    wait = upload_take(
        tenant_id=site.tenant_id, visitor_id=token.visitor_id, address=client_address(request)
    )
    if wait:
        raise RateLimited(
            "Too many files from here for now; try again later.",
            retry_after=retry_after_seconds(wait),
        )
    room = request.GET.get("room", "") or token.conversation
    with schema_context(site.schema_name):
        conversation = _visitor_room(site, room=room, visitor_id=token.visitor_id)
        visitor = Visitor.objects.filter(pk=token.visitor_id).first()
        if visitor is None:
            raise InvalidToken("This visitor no longer exists.")
        upload = uploads.the_file(request)
        attachment = attachment_store(
            conversation=conversation,
            upload=upload,
            allowed_types=site.attachment_types,
            uploader_kind=Attachment.UploaderKind.VISITOR,
            uploader_id=token.visitor_id,
            visitor=visitor,
        )
        body = links.attachment_out(attachment)
    response = JsonResponse(body, status=201)
    response["Cache-Control"] = "no-store"
    return response


def team_upload(
    request: HttpRequest,
    *,
    conversation: Conversation,
    uploader_kind: str,
    uploader_id: str,
) -> JsonResponse:
    """An agent's upload (the dashboard) or the API's into a conversation of the tenant whose
    schema the connection is in: the same limits and checks as a visitor's, but for the
    budget (the tenant's own people and servers). `uploads.prepare` must have run."""
    upload = uploads.the_file(request)
    attachment = attachment_store(
        conversation=conversation,
        upload=upload,
        allowed_types=site_attachment_types(site_id=conversation.site_id),
        uploader_kind=uploader_kind,
        uploader_id=uploader_id,
    )
    response = JsonResponse(links.attachment_out(attachment), status=201)
    response["Cache-Control"] = "no-store"
    return response


@csrf_exempt  # the API key is a header; no cookie is involved
@require_POST
def api_upload(request: HttpRequest, conversation_id: int) -> HttpResponse:
    """`POST /api/v1/conversations/{id}/attachments` of the site-key API."""
    try:
        api_key = ApiKeyAuth()(request)
        if api_key is None:
            raise InvalidToken("The API key is missing or invalid.")
        uploads.prepare(request, attachment_limit(api_key.tenant_id))
        with schema_context(api_key.tenant.schema_name):
            conversation = Conversation.objects.filter(pk=conversation_id).first()
            if conversation is None:
                raise NotFound("No such conversation.")
            return team_upload(
                request,
                conversation=conversation,
                uploader_kind=Attachment.UploaderKind.API,
                uploader_id=f"api:{api_key.prefix}",
            )
    except ParleyError as error:
        return error_answer(error)


def _visitor_room(site, *, room: str, visitor_id: str) -> Conversation:
    """The conversation a visitor may upload into: their own, or a public room of the site."""
    conversation = Conversation.objects.filter(site_id=site.site_id, room=room[:64]).first()
    if conversation is None:
        raise NotFound("No such conversation.")
    if conversation.kind == Conversation.Kind.PRIVATE:
        if str(conversation.visitor_id) != visitor_id:
            raise NotFound("No such conversation.")
    elif not site.public_rooms:
        raise NotFound("No such conversation.")
    return conversation


@require_safe
def file_serve(request: HttpRequest, token: str) -> HttpResponse:
    try:
        return _file(token)
    except ParleyError as error:
        response = error_answer(error)
        _inert(response)
        return response


def _file(token: str) -> HttpResponse:
    schema_name, attachment_id, variant = links.file_claims(token)
    tenant = (
        Tenant.objects.filter(schema_name=schema_name)
        .exclude(schema_name=settings.PUBLIC_SCHEMA_NAME)
        .only("id")
        .first()
    )
    if tenant is None:
        raise NotFound("No file has this link.")
    ensure_active(tenant.id)
    try:
        attachment_uuid = uuid.UUID(attachment_id)
    except ValueError:
        raise NotFound("No file has this link.") from None
    with schema_context(schema_name):
        attachment = Attachment.objects.filter(pk=attachment_uuid).first()
    if attachment is None:
        raise NotFound("This file has been deleted.")
    if variant == links.THUMBNAIL:
        if not attachment.thumbnail_key:
            raise NotFound("This file has no thumbnail.")
        key, content_type, inline = attachment.thumbnail_key, content.THUMBNAIL_TYPE, True
    else:
        key, content_type = attachment.storage_key, attachment.content_type
        inline = content_type in content.SAFE_IMAGE_TYPES
    try:
        stored = attachment_storage().open(key, "rb")
    except (FileNotFoundError, OSError):
        raise NotFound("This file has been deleted.") from None
    if content_type == content.TEXT:
        content_type = "text/plain; charset=utf-8"
    response = FileResponse(
        stored,
        content_type=content_type,
        as_attachment=not inline,
        filename=_download_name(attachment.name, variant),
    )
    _inert(response)
    response["Cache-Control"] = f"private, max-age={settings.FILE_URL_TTL}"
    return response


def _download_name(name: str, variant: str) -> str:
    if variant == links.THUMBNAIL:
        return f"{name.rsplit('.', 1)[0]}-thumbnail.webp"
    return name


def _inert(response: HttpResponse) -> None:
    """What makes a served file data and never a document of Parley's origin."""
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = FILE_POLICY
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    response["Referrer-Policy"] = "no-referrer"
    response["X-Frame-Options"] = "DENY"
