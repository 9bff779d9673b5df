"""`make run`'s mail catcher and the demo dashboard's mail page: the catcher keeps what Parley
sends (over real SMTP), the page shows it to a signed-in member, and its reply form answers as
the recipient through the SMTP receiver of replies, which posts into the conversation."""

import re
import smtplib
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller
from django.core import mail
from django.test import Client
from django_tenants.utils import tenant_context

from accounts.models import Role, User
from demo.mail import catcher_start
from tests.support.factories import visitor_conversation
from tests.support.processes import free_port
from widget.mail.addresses import reply_address
from widget.mail.receiver import ReplyHandler
from widget.models import Message

PASSWORD = "a-long-enough-passphrase-42"


@pytest.fixture
def catcher(tmp_path, settings):
    settings.DEMO_MAIL_DIR = str(tmp_path / "demo-mail")
    controller = catcher_start(folder=tmp_path / "demo-mail", port=free_port())
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    yield controller
    controller.stop()


@pytest.fixture
def receiver(settings):
    controller = Controller(ReplyHandler(), hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.INBOUND_SMTP_HOST, settings.INBOUND_SMTP_PORT = "127.0.0.1", controller.port
    yield controller
    controller.stop()


def member_client(tenant) -> Client:
    with tenant_context(tenant):
        member = User.objects.create_user(
            email=f"agent-{tenant.slug}@demo.test", password=PASSWORD, role=Role.AGENT
        )
        client = Client(HTTP_HOST=f"{tenant.slug}.localhost")
        client.force_login(member)
    return client


@pytest.mark.django_db(transaction=True)
def test_the_page_shows_caught_mail_and_answers_it_into_the_conversation(
    tenant_a, catcher, receiver
):
    conversation = visitor_conversation(
        tenant_a, room="cv_demo_mail", texts=(("agent", "Hello Grace"),), email="grace@x.test"
    )
    address = reply_address(
        tenant_id=tenant_a.id,
        conversation_id=conversation.pk,
        visitor_id=conversation.visitor_id,
    )
    email = mail.EmailMessage(
        subject="Alpha Inc: 1 new message for you",
        body="Hello Grace\n",
        from_email="Alpha Inc <no-reply@localhost>",
        to=["grace@x.test"],
        reply_to=[address],
    )
    email.send()  # through the catcher, over SMTP

    client = member_client(tenant_a)
    page = client.get("/demo/mail/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Alpha Inc: 1 new message for you" in html
    assert address in html
    assert "Content-Security-Policy" in page

    key = re.search(r'<li class="card mail" id="mail-([^"]+)"', html)[1]
    answer = client.post(f"/demo/mail/{key}/reply/", {"text": "Thanks, see you Friday"})
    assert answer.status_code == 302
    with tenant_context(tenant_a):
        texts = list(
            Message.objects.filter(conversation=conversation)
            .order_by("id")
            .values_list("author_kind", "text")
        )
    assert texts == [("agent", "Hello Grace"), ("visitor", "Thanks, see you Friday")]
    assert "Reply sent to" in client.get("/demo/mail/").content.decode()


@pytest.mark.django_db
def test_the_page_needs_a_member_and_the_catcher(tenant_a, settings):
    settings.DEMO_MAIL_DIR = ""
    assert member_client(tenant_a).get("/demo/mail/").status_code == 404
    settings.DEMO_MAIL_DIR = "/tmp/parley-test-demo-mail"
    anonymous = Client(HTTP_HOST=f"{tenant_a.slug}.localhost").get("/demo/mail/")
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/login/")


def test_the_catcher_keeps_what_it_is_sent(tmp_path):
    controller = catcher_start(folder=tmp_path / "kept", port=free_port())
    try:
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = "a@x.test", "b@x.test", "Kept"
        message.set_content("body")
        with smtplib.SMTP(controller.hostname, controller.port) as smtp:
            smtp.send_message(message)
    finally:
        controller.stop()
    (kept,) = (tmp_path / "kept" / "new").iterdir()
    assert b"Subject: Kept" in kept.read_bytes()
