"""The unsubscribe page of Parley's emails, on the platform host (`/email/unsubscribe/<token>/`,
the token from `widget.mail.unsubscribe`).

GET asks before it unsubscribes (a link scanner that follows every link must not stop a
visitor's emails); POST stops them, from the page's button or from a mail provider's one-click
request (RFC 8058: `List-Unsubscribe=One-Click` in the body, no form token, no cookies). So
the POST carries no CSRF token: the signed link is the credential, and all it can do is stop
emails to the person the link was sent to.
"""

from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods
from django_tenants.utils import tenant_context

from accounts.services import member_unanswered_emails_stop
from dashboard.middleware import dashboard_csp
from tenants.models import Tenant
from widget.mail.unsubscribe import unsubscribe_read
from widget.services.visitors import visitor_email_unsubscribe


@csrf_exempt
@dashboard_csp()
@require_http_methods(["GET", "POST"])
def email_unsubscribe(request, token: str):
    who = unsubscribe_read(token)
    tenant = Tenant.objects.filter(pk=who.tenant_id).first() if who else None
    if tenant is None:
        return render(request, "dashboard/email_unsubscribe_invalid.html", status=404)
    context = {"tenant_name": tenant.name, "agent": who.member_id is not None}
    if request.method == "GET":
        return render(request, "dashboard/email_unsubscribe.html", context)
    with tenant_context(tenant):
        if who.visitor_id is not None:
            visitor_email_unsubscribe(visitor_id=who.visitor_id)
        else:
            member_unanswered_emails_stop(member_id=who.member_id)
    return render(request, "dashboard/email_unsubscribe_done.html", context)
