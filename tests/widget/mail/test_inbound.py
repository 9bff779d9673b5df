"""Email continuity, inbound: an emailed reply to a signed address becomes a message of that
conversation (quotes and signature stripped); bounces, automatic replies, altered or foreign
addresses and an agent's address used by someone else create nothing."""

import pytest
from django_tenants.utils import tenant_context

from tests.support.factories import make_agent, visitor_conversation
from widget.mail.addresses import reply_address
from widget.mail.inbound import Outcome, inbound_receive
from widget.models import Conversation, Message

from .emails import REPLY_TEXT, delivery_report, reply

pytestmark = pytest.mark.django_db


@pytest.fixture
def conversation(tenant_a):
    return visitor_conversation(
        tenant_a,
        room="cv_inbound",
        texts=(("visitor", "Is the blue one in stock?"), ("agent", "Yes, two left in size 38.")),
        name="Grace Hopper",
        email="grace@example.com",
    )


def address_of(tenant, conversation, agent_id=None) -> str:
    return reply_address(
        tenant_id=tenant.id,
        conversation_id=conversation.pk,
        visitor_id=conversation.visitor_id,
        agent_id=agent_id,
    )


def receive(message, recipient: str, envelope_sender: str | None = "grace@example.com"):
    return inbound_receive(
        raw=message.as_bytes(), recipients=[recipient], envelope_sender=envelope_sender
    )


def messages_of(tenant, conversation) -> list[Message]:
    with tenant_context(tenant):
        return list(Message.objects.filter(conversation=conversation).order_by("id"))


def test_a_visitors_reply_becomes_their_message_without_quote_or_signature(tenant_a, conversation):
    to = address_of(tenant_a, conversation)
    with tenant_context(tenant_a):
        Conversation.objects.filter(pk=conversation.pk).update(emailed_up_to=10**12)
    email = reply(to)
    assert receive(email, to) == Outcome.POSTED
    newest = messages_of(tenant_a, conversation)[-1]
    assert newest.text == REPLY_TEXT
    assert newest.author_kind == "visitor"
    assert newest.author_id == str(conversation.visitor_id)
    assert newest.author_name == "Grace Hopper"
    with tenant_context(tenant_a):
        stored = Conversation.objects.get(pk=conversation.pk)
    assert stored.waiting_since is not None  # the visitor waits for an answer again
    assert stored.visitor_read_up_to >= newest.id - 1  # what the email carried counts as seen

    # The same email delivered again (a retrying server): stored once.
    assert receive(email, to) == Outcome.DUPLICATE
    assert len(messages_of(tenant_a, conversation)) == 3


def test_an_html_only_reply_is_read_as_text(tenant_a, conversation):
    to = address_of(tenant_a, conversation)
    html = "<div>Friday works.<br>See you then</div><blockquote>On Fri, Ada wrote:</blockquote>"
    assert receive(reply(to, html=html), to) == Outcome.POSTED
    assert messages_of(tenant_a, conversation)[-1].text.startswith("Friday works.\nSee you then")


@pytest.mark.parametrize(
    ("headers", "envelope_sender"),
    [
        ({}, ""),  # MAIL FROM:<>
        ({"Return-Path": "<>"}, None),
        ({}, "MAILER-DAEMON@mx.example.com"),
    ],
    ids=["empty envelope sender", "empty Return-Path", "mailer-daemon"],
)
def test_bounces_create_nothing(tenant_a, conversation, headers, envelope_sender):
    to = address_of(tenant_a, conversation)
    sender = "Mail Delivery System <MAILER-DAEMON@mx.example.com>"
    email = reply(to, headers=headers, sender=sender if envelope_sender else "x@example.com")
    assert receive(email, to, envelope_sender=envelope_sender) == Outcome.BOUNCE
    assert len(messages_of(tenant_a, conversation)) == 2


def test_a_delivery_status_report_creates_nothing(tenant_a, conversation):
    to = address_of(tenant_a, conversation)
    report = delivery_report(to, reply("gone@example.com"))
    assert report.get_content_type() == "multipart/report"
    assert receive(report, to, envelope_sender="bounces@mx.example.com") == Outcome.BOUNCE
    assert len(messages_of(tenant_a, conversation)) == 2


@pytest.mark.parametrize(
    ("headers", "subject"),
    [
        ({"Auto-Submitted": "auto-replied"}, "Re: your message"),
        ({"X-Autoreply": "yes"}, "Re: your message"),
        ({"X-Autorespond": "yes"}, "Re: your message"),
        ({"Precedence": "bulk"}, "Re: your message"),
        ({"Precedence": "auto_reply"}, "Re: your message"),
        ({}, "Out of Office: back on Monday"),
        ({}, "Automatic reply: Alpha Inc: 1 new message for you"),
        ({}, "Vacation reply"),
        ({}, "Abwesenheitsnotiz"),
    ],
)
def test_automatic_replies_create_nothing(tenant_a, conversation, headers, subject):
    to = address_of(tenant_a, conversation)
    assert receive(reply(to, headers=headers, subject=subject), to) == Outcome.AUTO_REPLY
    assert len(messages_of(tenant_a, conversation)) == 2


def test_a_person_writing_auto_submitted_no_is_heard(tenant_a, conversation):
    to = address_of(tenant_a, conversation)
    assert receive(reply(to, headers={"Auto-Submitted": "no"}), to) == Outcome.POSTED


def test_altered_foreign_and_unknown_addresses_create_nothing(tenant_a, tenant_b, conversation):
    to = address_of(tenant_a, conversation)
    local, _, domain = to.partition("@")
    last = local[-1]
    altered = f"{local[:-1]}{'a' if last != 'a' else 'b'}@{domain}"
    other = visitor_conversation(tenant_b, room="cv_inbound", email="alan@example.com")
    # Tenant B's conversation id in tenant A's address (and A's MAC): another conversation.
    moved = to.replace(f"-{conversation.pk}-", f"-{other.pk}-", 1).replace(
        f"c-{tenant_a.id}-", f"c-{tenant_b.id}-", 1
    )
    for address in (altered, moved, f"hello@{domain}", "grace@example.com"):
        assert receive(reply(address), address) == Outcome.UNKNOWN_RECIPIENT, address
    assert len(messages_of(tenant_a, conversation)) == 2
    assert messages_of(tenant_b, other) == []


def test_an_agents_reply_becomes_their_message_only_from_their_address(tenant_a, conversation):
    agent = make_agent(tenant_a)
    to = address_of(tenant_a, conversation, agent_id=agent.user_id)
    stranger = reply(to, sender="Mallory <mallory@example.com>", text="I am the agent now")
    assert receive(stranger, to) == Outcome.WRONG_SENDER
    answer = reply(to, sender=f"Agent <{agent.email.upper()}>", text="We hold it until Friday.")
    assert receive(answer, to) == Outcome.POSTED
    newest = messages_of(tenant_a, conversation)[-1]
    assert (newest.author_kind, newest.author_id) == ("agent", str(agent.user_id))
    assert newest.text == "We hold it until Friday."
    with tenant_context(tenant_a):
        assert Conversation.objects.get(pk=conversation.pk).waiting_since is None  # answered
    # A visitor's address is not an agent's, nor the reverse.
    visitor_address = address_of(tenant_a, conversation)
    assert to != visitor_address


def test_a_reply_with_nothing_left_after_stripping_creates_nothing(tenant_a, conversation):
    to = address_of(tenant_a, conversation)
    only_quote = "On Fri, 4 Dec 2026, Alpha Inc wrote:\n> Yes, two left.\n"
    assert receive(reply(to, text=only_quote), to) == Outcome.EMPTY
    assert len(messages_of(tenant_a, conversation)) == 2


def test_a_visitors_replies_draw_on_their_message_budget(tenant_a, conversation, settings):
    settings.BUDGET_VISITOR_MESSAGES = 1
    to = address_of(tenant_a, conversation)
    assert receive(reply(to, text="First"), to) == Outcome.POSTED
    assert receive(reply(to, text="Second"), to) == Outcome.RATE_LIMITED
    assert [m.text for m in messages_of(tenant_a, conversation)][-1] == "First"
