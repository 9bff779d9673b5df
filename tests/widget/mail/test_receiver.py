"""The doors of inbound email: the SMTP receiver (aiosmtpd, spoken to over a real socket with
smtplib) refuses an unknown address at RCPT with 550 and posts a reply; a provider's inbound
webhook (Postmark's, through anymail) posts the same way, behind the provider's auth."""

import base64
import json
import smtplib

import pytest
from aiosmtpd.controller import Controller
from django.test import Client
from django_tenants.utils import tenant_context

from tenants.services import public_tenant_ensure
from tests.support.factories import visitor_conversation
from tests.support.processes import free_port
from widget.mail.addresses import reply_address
from widget.mail.receiver import ReplyHandler
from widget.models import Message

from .emails import REPLY_TEXT, reply


@pytest.fixture
def conversation(tenant_a):
    return visitor_conversation(
        tenant_a, room="cv_door", texts=(("agent", "Hello Grace"),), email="grace@example.com"
    )


def address_of(tenant, conversation) -> str:
    return reply_address(
        tenant_id=tenant.id, conversation_id=conversation.pk, visitor_id=conversation.visitor_id
    )


def texts_of(tenant, conversation) -> list[str]:
    with tenant_context(tenant):
        return list(
            Message.objects.filter(conversation=conversation)
            .order_by("id")
            .values_list("text", flat=True)
        )


@pytest.fixture
def receiver():
    controller = Controller(ReplyHandler(), hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller
    controller.stop()


@pytest.mark.django_db(transaction=True)
def test_the_smtp_receiver_refuses_unknown_addresses_and_posts_replies(
    tenant_a, conversation, receiver, settings
):
    to = address_of(tenant_a, conversation)
    local, _, domain = to.partition("@")
    altered = f"{local[:-1]}{'b' if local[-1] != 'b' else 'c'}@{domain}"
    with smtplib.SMTP(receiver.hostname, receiver.port) as smtp:
        with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
            smtp.sendmail("grace@example.com", [altered], reply(altered).as_bytes())
        code, answer = refused.value.recipients[altered]
        assert code == 550
        assert b"No conversation has this address" in answer
        assert texts_of(tenant_a, conversation) == ["Hello Grace"]

        smtp.sendmail("grace@example.com", [to], reply(to).as_bytes())
        assert texts_of(tenant_a, conversation) == ["Hello Grace", REPLY_TEXT]

        # A bounce (MAIL FROM:<>) is accepted and dropped: refusing it would bounce a bounce.
        smtp.sendmail("", [to], reply(to, text="Delivery failed").as_bytes())
        assert texts_of(tenant_a, conversation) == ["Hello Grace", REPLY_TEXT]

        # Past the visitor's message budget: 451, the sending server tries again later.
        settings.BUDGET_VISITOR_MESSAGES = 1
        with pytest.raises(smtplib.SMTPDataError) as deferred:
            smtp.sendmail("grace@example.com", [to], reply(to, text="Once more").as_bytes())
        assert deferred.value.smtp_code == 451
        assert texts_of(tenant_a, conversation) == ["Hello Grace", REPLY_TEXT]


@pytest.mark.django_db
def test_a_providers_inbound_webhook_posts_the_reply_behind_its_auth(
    tenant_a, conversation, settings
):
    public_tenant_ensure()
    client = Client(HTTP_HOST=settings.PLATFORM_HOST)
    url = "/email/inbound/postmark/inbound/"
    to = address_of(tenant_a, conversation)
    body = json.dumps(
        {
            "RawEmail": reply(to).as_string(),
            "OriginalRecipient": to,
            "FromFull": {"Email": "grace@example.com", "Name": "Grace Hopper"},
            "Headers": [],
        }
    )
    settings.ANYMAIL = {}
    answer = client.post(url, body, content_type="application/json")
    assert answer.status_code == 404  # no provider configured
    assert answer.json()["error"]["code"] == "not_found"

    settings.ANYMAIL = {"WEBHOOK_SECRET": "postmark:a-long-webhook-secret"}
    wrong = "Basic " + base64.b64encode(b"postmark:guessed").decode()
    answer = client.post(url, body, content_type="application/json", HTTP_AUTHORIZATION=wrong)
    assert answer.status_code == 400
    assert texts_of(tenant_a, conversation) == ["Hello Grace"]

    right = "Basic " + base64.b64encode(b"postmark:a-long-webhook-secret").decode()
    answer = client.post(url, body, content_type="application/json", HTTP_AUTHORIZATION=right)
    assert answer.status_code == 200
    assert texts_of(tenant_a, conversation) == ["Hello Grace", REPLY_TEXT]

    # An altered address through the webhook: answered 200 (no retries), nothing created.
    local = to.partition("@")[0]
    altered = body.replace(local, local[:-1] + ("q" if local[-1] != "q" else "r"))
    answer = client.post(url, altered, content_type="application/json", HTTP_AUTHORIZATION=right)
    assert answer.status_code == 200
    assert texts_of(tenant_a, conversation) == ["Hello Grace", REPLY_TEXT]


@pytest.mark.django_db
def test_a_provider_missing_its_own_secret_answers_404_not_500(settings):
    public_tenant_ensure()
    settings.ANYMAIL = {"WEBHOOK_SECRET": "u:p"}  # Mailgun needs its signing key as well
    client = Client(HTTP_HOST=settings.PLATFORM_HOST)
    answer = client.post("/email/inbound/mailgun/inbound_mime/", {"body-mime": "x"})
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "not_found"
