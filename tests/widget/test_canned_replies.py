"""Canned replies: the services' rules (shortcuts unique whatever their case, a title and some
text, lengths, variables known at save), the audit log, and filling the variables in for a
conversation as the composer inserts them, never as a template."""

import pytest
from django_tenants.utils import schema_context

from core.errors import BadRequest, Conflict
from tenants.models import AuditEntry
from tests.support.factories import visitor_conversation
from widget.canned_variables import variables_fill, variables_unknown
from widget.models import CannedReply
from widget.selectors import canned_replies_filled
from widget.services.canned_replies import (
    BODY_MAX,
    canned_reply_create,
    canned_reply_delete,
    canned_reply_update,
)

pytestmark = pytest.mark.django_db

HELLO = "Hi {{visitor.name|there}}, {{ agent.name }} from {{site.name}} here."


def create(tenant, shortcut="hello", title="Greeting", body=HELLO, **fields):
    return canned_reply_create(tenant=tenant, shortcut=shortcut, title=title, body=body, **fields)


def test_a_reply_is_stored_with_its_shortcut_in_lower_case_and_audited(tenant_a):
    with schema_context(tenant_a.schema_name):
        reply = create(tenant_a, shortcut=" /Hello ", title="  Greeting   a visitor ")
        assert (reply.shortcut, reply.title, reply.body) == ("hello", "Greeting a visitor", HELLO)
        canned_reply_update(tenant=tenant_a, canned_reply=reply, title="Greeting")
        canned_reply_update(tenant=tenant_a, canned_reply=reply, body="Hello!")
        canned_reply_update(tenant=tenant_a, canned_reply=reply, body="Hello!")  # no change
        canned_reply_delete(tenant=tenant_a, canned_reply=reply)
        assert not CannedReply.objects.exists()
    entries = AuditEntry.objects.filter(tenant=tenant_a, action__startswith="canned_reply.")
    assert [(e.action, e.target, e.details) for e in entries.order_by("id")] == [
        ("canned_reply.created", "/hello", {"title": "Greeting a visitor"}),
        (
            "canned_reply.updated",
            "/hello",
            {"title": {"from": "Greeting a visitor", "to": "Greeting"}},
        ),
        ("canned_reply.updated", "/hello", {"body": "changed"}),
        ("canned_reply.deleted", "/hello", {}),
    ]


def test_a_shortcut_is_taken_whatever_its_case(tenant_a):
    with schema_context(tenant_a.schema_name):
        create(tenant_a, shortcut="hello")
        other = create(tenant_a, shortcut="bye", title="Goodbye", body="Bye!")
        with pytest.raises(Conflict, match=r"/hello is taken"):
            create(tenant_a, shortcut="HELLO")
        with pytest.raises(Conflict, match=r"/hello is taken"):
            canned_reply_update(tenant=tenant_a, canned_reply=other, shortcut="Hello")
        other.refresh_from_db()
        assert other.shortcut == "bye"
        # Renaming a reply to its own shortcut in another case is no conflict.
        canned_reply_update(tenant=tenant_a, canned_reply=other, shortcut="BYE")
        assert CannedReply.objects.count() == 2


def test_the_tenants_have_shortcuts_of_their_own(tenant_a, tenant_b):
    with schema_context(tenant_a.schema_name):
        create(tenant_a)
    with schema_context(tenant_b.schema_name):
        assert not CannedReply.objects.exists()
        create(tenant_b)  # the same shortcut in another tenant
        assert CannedReply.objects.count() == 1


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"shortcut": " / "}, "shortcut: a canned reply needs a shortcut."),
        ({"shortcut": "a" * 33}, "shortcut: at most 32 characters."),
        ({"shortcut": "two words"}, "shortcut: letters, digits, - and _ only"),
        ({"shortcut": "-dash"}, "shortcut: letters, digits, - and _ only"),
        ({"title": "   "}, "title: a canned reply needs a title."),
        ({"title": "t" * 101}, "title: at most 100 characters."),
        ({"body": " \n "}, "body: a canned reply needs some text."),
        ({"body": "b" * (BODY_MAX + 1)}, f"body: at most {BODY_MAX} characters."),
        ({"body": "Hi\x00"}, "No NUL characters."),
        (
            {"body": "Hi {{visitor.phone}} and {{ Visitor name }}"},
            "body: {{visitor.phone}}, {{ Visitor name }} is not a variable; the variables are "
            "{{visitor.name}}, {{visitor.first_name}}, {{visitor.email}}, {{agent.name}}, "
            "{{site.name}}.",
        ),
    ],
)
def test_what_a_reply_may_not_be_is_refused_with_a_message(tenant_a, fields, message):
    with schema_context(tenant_a.schema_name):
        with pytest.raises(BadRequest) as refused:
            create(tenant_a, **fields)
        assert refused.value.message.startswith(message)
        assert not CannedReply.objects.exists()


def test_variables_are_filled_with_their_fallbacks_and_nothing_else_is_evaluated():
    values = {"visitor.name": "", "agent.name": "Ada", "site.name": "Acme"}
    assert variables_fill(HELLO, values) == "Hi there, Ada from Acme here."
    assert variables_fill("Hi {{visitor.name}}!", values) == "Hi !"
    values["visitor.name"] = "{{agent.name}} {% debug %}"
    assert variables_fill(HELLO, values) == "Hi {{agent.name}} {% debug %}, Ada from Acme here."
    # Text that only looks like a variable stays as written.
    assert variables_fill("{{ nope }} {{visitor.name", values) == "{{ nope }} {{visitor.name"
    assert variables_unknown("{{ agent.name | me }} {% if %} {{x}} {{x}}") == ["{{x}}"]


def test_the_composer_gets_the_bodies_filled_for_the_conversations_visitor(tenant_a):
    known = visitor_conversation(
        tenant_a, room="cv_known", name="Greta Lindqvist", email="greta@mail.test"
    )
    anonymous = visitor_conversation(tenant_a, room="cv_anon")
    with schema_context(tenant_a.schema_name):
        create(tenant_a)
        create(
            tenant_a,
            shortcut="mail",
            title="Email on file",
            body="{{visitor.first_name|Hello}}, we write to {{visitor.email|your address}}.",
        )
        filled = canned_replies_filled(conversation=known, agent_name="Ada", site_name="Acme")
        assert filled == [
            {
                "shortcut": "hello",
                "title": "Greeting",
                "text": "Hi Greta Lindqvist, Ada from Acme here.",
            },
            {
                "shortcut": "mail",
                "title": "Email on file",
                "text": "Greta, we write to greta@mail.test.",
            },
        ]
        filled = canned_replies_filled(conversation=anonymous, agent_name="Ada", site_name="Acme")
        assert [reply["text"] for reply in filled] == [
            "Hi there, Ada from Acme here.",
            "Hello, we write to your address.",
        ]
