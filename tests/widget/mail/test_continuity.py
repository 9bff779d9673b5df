"""Email continuity, outbound: a visitor who left an email and has not seen an agent's message
for the delay gets one email with every unseen message, through a real SMTP server."""

import re
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db.models import F
from django.utils import timezone
from django_tenants.utils import tenant_context

from tests.support.factories import visitor_conversation
from tests.support.processes import free_port
from widget.mail.continuity import continuity_send_all
from widget.models import Conversation, Message
from widget.services.messages import message_post

from .conftest import REPLY_DOMAIN

pytestmark = pytest.mark.django_db

REPLY_TO = re.compile(rf"^c-\d+-\d+-v-[a-z2-7]{{16}}@{re.escape(REPLY_DOMAIN)}$")


def aged(tenant, conversation, seconds: float) -> None:
    """Move the conversation's messages `seconds` into the past."""
    with tenant_context(tenant):
        Message.objects.filter(conversation=conversation).update(
            created_at=F("created_at") - timedelta(seconds=seconds)
        )


def grace(tenant, room="cv_grace", texts=(), **fields):
    fields.setdefault("email", "grace@example.com")
    return visitor_conversation(
        tenant, room=room, texts=texts, name="Grace Hopper", agent_name="Ada Lovelace", **fields
    )


def test_one_email_carries_every_unseen_message_once_the_delay_passes(tenant_a, smtp):
    conversation = grace(
        tenant_a,
        texts=(
            ("visitor", "Is the blue one in stock?"),
            ("agent", "Let me look."),
            ("agent", "Yes, two left in size 38."),
        ),
    )
    assert continuity_send_all() == 0  # not yet past the delay
    aged(tenant_a, conversation, 121)

    call_command("email_continuity")
    assert smtp.recipients == [["grace@example.com"]]
    sent = smtp.messages[0]
    assert sent["From"] == "Alpha Inc <no-reply@localhost>"
    assert sent["Subject"] == "Alpha Inc: 2 new messages for you"
    assert REPLY_TO.match(sent["Reply-To"]), sent["Reply-To"]
    body = sent.get_content()
    assert "Let me look." in body
    assert "Yes, two left in size 38." in body
    assert "Is the blue one in stock?" not in body  # their own words are not sent back
    assert "Ada Lovelace" in body
    unsubscribe = re.search(r"No more emails: (\S+)", body)[1]
    assert sent["List-Unsubscribe"].strip() == f"<{unsubscribe}>"
    assert sent["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert sent["Auto-Submitted"] == "auto-generated"

    assert continuity_send_all() == 0  # emailed once
    with tenant_context(tenant_a):
        newest = Message.objects.filter(conversation=conversation).latest("id")
        assert Conversation.objects.get(pk=conversation.pk).emailed_up_to == newest.id


def test_a_later_message_gets_an_email_of_its_own_without_the_earlier_ones(tenant_a, smtp):
    conversation = grace(tenant_a, texts=(("agent", "First answer."),))
    aged(tenant_a, conversation, 500)
    assert continuity_send_all() == 1
    with tenant_context(tenant_a):
        message_post(
            tenant_id=tenant_a.id,
            conversation=conversation,
            text="Second answer.",
            author_kind="agent",
            author_name="Ada Lovelace",
        )
    assert continuity_send_all() == 0
    assert continuity_send_all(now=timezone.now() + timedelta(seconds=121)) == 1
    second = smtp.messages[1].get_content()
    assert "Second answer." in second
    assert "First answer." not in second
    assert smtp.messages[1]["Subject"] == "Alpha Inc: 1 new message for you"
    # Both in one thread of the reader's mail app.
    assert smtp.messages[0]["References"] == smtp.messages[1]["References"]


def test_seen_noted_unsubscribed_or_addressless_conversations_get_no_email(tenant_a, smtp):
    seen = grace(tenant_a, room="cv_seen", texts=(("agent", "Seen it?"),))
    note = grace(tenant_a, room="cv_note", texts=())
    nobody = grace(tenant_a, room="cv_noemail", texts=(("agent", "Hello?"),), email="")
    gone = grace(tenant_a, room="cv_gone", texts=(("agent", "Still there?"),))
    old = grace(tenant_a, room="cv_old", texts=(("agent", "Long ago."),))
    with tenant_context(tenant_a):
        message_post(
            tenant_id=tenant_a.id,
            conversation=note,
            text="Team only",
            author_kind="agent",
            private=True,
        )
        Conversation.objects.filter(pk=seen.pk).update(visitor_read_up_to=10**12)
        gone.visitor.email_unsubscribed_at = timezone.now()
        gone.visitor.save()
    for conversation in (seen, note, nobody, gone):
        aged(tenant_a, conversation, 300)
    aged(tenant_a, old, 4 * 24 * 3600)  # past the horizon (3 days)
    assert continuity_send_all() == 0
    assert smtp.messages == []


def test_another_tenants_visitors_are_emailed_in_their_own_tenants_name(tenant_a, tenant_b, smtp):
    ours = grace(tenant_a, texts=(("agent", "From Alpha."),))
    theirs = grace(tenant_b, texts=(("agent", "From Beta."),), email="alan@example.com")
    aged(tenant_a, ours, 200)
    aged(tenant_b, theirs, 200)
    assert continuity_send_all() == 2
    (alpha,) = smtp.to("grace@example.com")
    (beta,) = smtp.to("alan@example.com")
    assert "From Alpha." in alpha.get_content()
    assert "From Beta." not in alpha.get_content()
    assert beta["From"] == "Beta LLC <no-reply@localhost>"
    assert alpha["Reply-To"] != beta["Reply-To"]


def test_a_failed_send_puts_the_messages_back_for_the_next_run(tenant_a, settings):
    conversation = grace(tenant_a, texts=(("agent", "Are you there?"),))
    aged(tenant_a, conversation, 200)
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = free_port()  # nothing listens there
    with pytest.raises(ConnectionRefusedError):
        continuity_send_all()
    with tenant_context(tenant_a):
        assert Conversation.objects.get(pk=conversation.pk).emailed_up_to == 0
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert continuity_send_all() == 1
