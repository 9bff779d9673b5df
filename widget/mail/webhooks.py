"""The email providers' inbound webhooks (django-anymail): one URL per provider under
`/email/inbound/` on the platform host (`<provider>/inbound/`: amazon_ses, brevo, mailersend,
mailgun, mailjet, mailtrap, postal, postmark, resend, sendgrid, sparkpost), all feeding anymail's
`inbound` signal, whose receiver here hands each email to `widget.mail.inbound`.

A provider is answered 200 whatever the email was (dropped, unknown address): anything else
would make it retry. Anymail checks the provider's authentication (ANYMAIL_WEBHOOK_SECRET's
basic auth, or the provider's signing key); with no ANYMAIL_* setting at all the URLs answer
404 `not_found`, and a provider that lacks its own setting answers the same instead of a 500.
"""

import logging
from functools import wraps

from anymail.signals import inbound
from anymail.urls import urlpatterns as anymail_urlpatterns
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.dispatch import receiver
from django.http import JsonResponse
from django.urls import URLPattern
from django.views.decorators.csrf import csrf_exempt

from widget.mail.inbound import inbound_receive, recipients_of

log = logging.getLogger(__name__)


def _not_configured() -> JsonResponse:
    return JsonResponse(
        {"error": {"code": "not_found", "message": "This email provider is not configured."}},
        status=404,
    )


def _configured_only(view):
    @csrf_exempt
    @wraps(view)
    def guarded(request, *args, **kwargs):
        if not settings.ANYMAIL:
            return _not_configured()
        try:
            return view(request, *args, **kwargs)
        except ImproperlyConfigured:  # this provider's secret is missing
            log.warning("inbound webhook called for an unconfigured provider: %s", request.path)
            return _not_configured()

    return guarded


def inbound_urlpatterns() -> list[URLPattern]:
    """Anymail's inbound webhook URLs (not its tracking ones), each guarded as above."""
    return [
        URLPattern(
            pattern.pattern, _configured_only(pattern.callback), pattern.default_args, pattern.name
        )
        for pattern in anymail_urlpatterns
        if pattern.name and pattern.name.endswith("_inbound_webhook")
    ]


@receiver(inbound, dispatch_uid="parley.email.inbound")
def on_inbound(sender, event, esp_name: str, **kwargs) -> None:
    message = event.message
    if message is None:
        return
    recipients = [message.envelope_recipient] if message.envelope_recipient else []
    raw = message.as_bytes()
    outcome = inbound_receive(
        raw=raw,
        recipients=recipients or recipients_of(message),
        envelope_sender=message.envelope_sender,
    )
    log.info("inbound email from %s: %s", esp_name, outcome.value)
