"""Emails about conversations left unanswered, sent through a real SMTP server on loopback
(aiosmtpd): who gets one, what it says, and that each agent gets it once per wait."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db.models import F
from django.utils import timezone
from django_tenants.utils import tenant_context

from accounts.models import Role
from tests.support.factories import visitor_conversation
from tests.support.smtp import point_django_at, smtp_inbox
from widget.mail.addresses import reply_address_parse
from widget.models import Conversation, Message, Visitor

pytestmark = pytest.mark.django_db


@pytest.fixture
def smtp(settings):
    with smtp_inbox() as (inbox, port):
        point_django_at(settings, port)
        yield inbox


def waiting_conversation(tenant, *, minutes: int, assignee=None, name="Grace Hopper"):
    with tenant_context(tenant):
        visitor = Visitor.objects.create(site_id=1, name=name)
        return Conversation.objects.create(
            room=f"cv_wait_{visitor.pk.hex[:8]}",
            site_id=1,
            visitor=visitor,
            assignee=assignee,
            last_message_at=timezone.now(),
            waiting_since=timezone.now() - timedelta(minutes=minutes),
        )


def opt_in(tenant, member, minutes):
    with tenant_context(tenant):
        member.notify_unanswered_minutes = minutes
        member.save(update_fields=["notify_unanswered_minutes"])


def test_every_agent_who_asked_is_told_once_when_their_delay_passes(
    tenant_a, tenant_b, make_member, smtp
):
    quick = make_member(tenant_a, "quick@alpha.test")
    patient = make_member(tenant_a, "patient@alpha.test", Role.ADMIN)
    make_member(tenant_a, "never@alpha.test")  # asked for nothing
    opt_in(tenant_a, quick, 15)
    opt_in(tenant_a, patient, 60)
    elsewhere = make_member(tenant_b, "other@beta.test")
    opt_in(tenant_b, elsewhere, 5)
    conversation = waiting_conversation(tenant_a, minutes=20)

    call_command("notify_unanswered")
    assert smtp.recipients == [["quick@alpha.test"]]
    sent = smtp.messages[0]
    assert sent["Subject"] == "Grace Hopper is waiting for an answer (Alpha Inc)"
    body = sent.get_content()
    assert f"http://alpha.localhost:8000/conversations/{conversation.pk}/" in body
    assert "more than 15 minutes" in body

    call_command("notify_unanswered")  # nothing new: still once
    assert len(smtp.messages) == 1

    # 41 minutes later (the wait and its first email moved back by as much), an hour into the
    # wait, the patient agent's delay passes too; the quick one is not told again.
    later = timedelta(minutes=41)
    with tenant_context(tenant_a):
        Conversation.objects.filter(pk=conversation.pk).update(
            waiting_since=F("waiting_since") - later,
            waiting_notified_at=F("waiting_notified_at") - later,
        )
    call_command("notify_unanswered")
    assert smtp.recipients == [["quick@alpha.test"], ["patient@alpha.test"]]
    assert not smtp.to("other@beta.test")  # another tenant's agent hears nothing of it


def test_an_assigned_conversation_tells_its_assignee_only(tenant_a, make_member, smtp):
    assignee = make_member(tenant_a, "mine@alpha.test")
    colleague = make_member(tenant_a, "theirs@alpha.test")
    opt_in(tenant_a, assignee, 10)
    opt_in(tenant_a, colleague, 10)
    waiting_conversation(tenant_a, minutes=11, assignee=assignee, name="Alan")
    call_command("notify_unanswered")
    assert smtp.recipients == [["mine@alpha.test"]]


def test_answered_closed_and_snoozed_conversations_tell_no_one(tenant_a, make_member, smtp):
    agent = make_member(tenant_a, "agent@alpha.test")
    opt_in(tenant_a, agent, 5)
    answered = waiting_conversation(tenant_a, minutes=30)
    closed = waiting_conversation(tenant_a, minutes=30)
    snoozed = waiting_conversation(tenant_a, minutes=30)
    with tenant_context(tenant_a):
        Conversation.objects.filter(pk=answered.pk).update(waiting_since=None)
        Conversation.objects.filter(pk=closed.pk).update(status=Conversation.Status.CLOSED)
        Conversation.objects.filter(pk=snoozed.pk).update(
            snoozed_until=timezone.now() + timedelta(hours=1)
        )
    call_command("notify_unanswered")
    assert smtp.messages == []


def test_a_new_wait_after_a_reply_is_told_again(tenant_a, make_member, smtp):
    agent = make_member(tenant_a, "agent@alpha.test")
    opt_in(tenant_a, agent, 5)
    conversation = waiting_conversation(tenant_a, minutes=6)
    call_command("notify_unanswered")
    assert len(smtp.messages) == 1
    # That email went out 10 minutes ago; an agent answered, and the visitor wrote again 5 1/2
    # minutes ago: a new wait.
    with tenant_context(tenant_a):
        Conversation.objects.filter(pk=conversation.pk).update(
            waiting_notified_at=timezone.now() - timedelta(minutes=10),
            waiting_since=timezone.now() - timedelta(minutes=5, seconds=30),
        )
    call_command("notify_unanswered")
    assert len(smtp.messages) == 2


def test_the_email_quotes_the_visitor_and_its_reply_address_is_the_agents(
    tenant_a, make_member, smtp
):
    agent = make_member(tenant_a, "agent@alpha.test")
    opt_in(tenant_a, agent, 5)
    conversation = visitor_conversation(
        tenant_a, room="cv_quoted", texts=(("visitor", "Where is my parcel?"),), name="Grace"
    )
    with tenant_context(tenant_a):
        Conversation.objects.filter(pk=conversation.pk).update(
            waiting_since=F("waiting_since") - timedelta(minutes=6)
        )
        Message.objects.filter(conversation=conversation).update(
            created_at=F("created_at") - timedelta(minutes=6)
        )
    call_command("notify_unanswered")
    (sent,) = smtp.messages
    assert "> Where is my parcel?" in sent.get_content()
    claim = reply_address_parse(sent["Reply-To"])
    assert (claim.tenant_id, claim.conversation_id, claim.agent_id) == (
        tenant_a.id,
        conversation.pk,
        agent.pk,
    )
    assert sent["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
