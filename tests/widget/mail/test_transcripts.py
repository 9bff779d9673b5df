"""Transcripts by email, through a real SMTP server: asked for by the visitor's socket, an
agent's button, the site-key API, or sent on close where the site says so; the whole
conversation but the team's notes, to the visitor's own address only, at most every 10 minutes."""

import pytest
from django.core.management import call_command
from django_tenants.utils import tenant_context

from core.errors import RateLimited
from tenants.models import Site
from tests.support.factories import make_site, visitor_conversation
from widget.mail.transcripts import NoEmail, transcript_request, transcripts_send_all
from widget.models import Conversation, Visitor
from widget.services.conversations import conversation_close
from widget.services.messages import message_post

pytestmark = pytest.mark.django_db


def chat(tenant, *, site_id: int = 1, email: str = "grace@example.com", room="cv_transcript"):
    conversation = visitor_conversation(
        tenant,
        room=room,
        site_id=site_id,
        texts=(("visitor", "Do you ship to Oslo?"), ("agent", "We do, in 3 days.")),
        name="Grace Hopper",
        email=email,
        agent_name="Ada Lovelace",
    )
    with tenant_context(tenant):
        message_post(
            tenant_id=tenant.id,
            conversation=conversation,
            text="She asked twice before.",
            author_kind="agent",
            author_name="Ada Lovelace",
            private=True,
        )
    return conversation


def test_a_requested_transcript_carries_the_conversation_but_the_notes(tenant_a, smtp):
    conversation = chat(tenant_a)
    with tenant_context(tenant_a):
        assert transcript_request(conversation=conversation) == "grace@example.com"
        assert smtp.messages == []  # asking sends nothing: the sender loop does
    call_command("email_continuity")
    assert smtp.recipients == [["grace@example.com"]]
    sent = smtp.messages[0]
    assert sent["Subject"] == "Your conversation with Alpha Inc"
    assert sent["Reply-To"].startswith(f"c-{tenant_a.id}-{conversation.pk}-v-")
    body = sent.get_content()
    assert body.index("Do you ship to Oslo?") < body.index("We do, in 3 days.")
    assert "You · " in body
    assert "Ada Lovelace · " in body
    assert "She asked twice before." not in body  # a private note never leaves the team
    assert transcripts_send_all() == 0  # sent once


def test_the_visitor_may_give_an_address_only_when_they_left_none(tenant_a, smtp):
    anonymous = chat(tenant_a, email="", room="cv_anon")
    with tenant_context(tenant_a), pytest.raises(NoEmail):
        transcript_request(conversation=anonymous)
    with tenant_context(tenant_a):
        assert transcript_request(conversation=anonymous, email="me@example.org") == (
            "me@example.org"
        )
        assert Visitor.objects.get(pk=anonymous.visitor_id).email == "me@example.org"

    known = chat(tenant_a, room="cv_known")
    with tenant_context(tenant_a):
        # Another address is never used: a transcript goes only where the visitor said.
        assert transcript_request(conversation=known, email="victim@example.net") == (
            "grace@example.com"
        )
    transcripts_send_all()
    assert sorted(smtp.recipients) == [["grace@example.com"], ["me@example.org"]]


def test_a_second_transcript_waits_ten_minutes(tenant_a, smtp):
    conversation = chat(tenant_a)
    with tenant_context(tenant_a):
        transcript_request(conversation=conversation)
    transcripts_send_all()
    with tenant_context(tenant_a), pytest.raises(RateLimited) as refused:
        transcript_request(conversation=conversation)
    assert 590 <= refused.value.retry_after <= 600
    assert len(smtp.messages) == 1


def test_closing_sends_it_where_the_site_says_so(tenant_a, smtp):
    site = make_site(tenant_a)
    quiet = chat(tenant_a, site_id=site.site.pk, room="cv_quiet")
    with tenant_context(tenant_a):
        conversation_close(tenant_id=tenant_a.id, conversation=quiet)
    assert transcripts_send_all() == 0  # the setting is off by default

    Site.objects.filter(pk=site.site.pk).update(transcript_on_close=True)
    told = chat(tenant_a, site_id=site.site.pk, room="cv_told")
    no_email = chat(tenant_a, site_id=site.site.pk, email="", room="cv_no_email")
    with tenant_context(tenant_a):
        conversation_close(tenant_id=tenant_a.id, conversation=told)
        conversation_close(tenant_id=tenant_a.id, conversation=no_email)
    assert transcripts_send_all() == 1
    assert smtp.recipients == [["grace@example.com"]]
    with tenant_context(tenant_a):
        assert Conversation.objects.get(pk=told.pk).transcript_sent_at is not None
