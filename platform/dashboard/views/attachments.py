"""An agent's upload from the conversation's composer: `POST /conversations/<pk>/attachments/`.

The body is multipart, read by the CSRF check within the installation's limit
(core.uploads.UploadLimitMiddleware); the file is then checked against the tenant's. The answer
is the attachment's JSON (PROTOCOL.md, Attachments), whose id the composer sends with the reply.
"""

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_POST

from accounts.roles import Capability
from core.errors import NotFound, ParleyError
from core.http_errors import error_answer
from dashboard.permissions import requires
from widget.attachments import uploads
from widget.attachments.views import attachment_limit, team_upload
from widget.models import Attachment
from widget.selectors import inbox_conversation


@requires(Capability.INBOX)
@require_POST
def conversation_attachment_upload(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        uploads.prepare(request, attachment_limit(request.tenant.id))
        conversation = inbox_conversation(conversation_id=pk)
        if conversation is None:
            raise NotFound("No such conversation.")
        return team_upload(
            request,
            conversation=conversation,
            uploader_kind=Attachment.UploaderKind.AGENT,
            uploader_id=str(request.user.pk),
        )
    except ParleyError as error:
        return error_answer(error)
