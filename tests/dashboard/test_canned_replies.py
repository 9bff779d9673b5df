"""The Canned replies page: admins and owners create, change and delete replies, each save
confirmed and in the audit log, a refused one shown again with its reason beside the field and
what was typed kept; agents read them and insert them, but change nothing; another tenant's reply
is 404. The conversation page carries the replies filled in for its visitor and its agent."""

import json
import re

import pytest
from django_tenants.utils import tenant_context

from tenants.models import AuditEntry
from tests.support.factories import visitor_conversation
from widget.models import CannedReply
from widget.services.canned_replies import canned_reply_create

pytestmark = pytest.mark.django_db

HELLO = {
    "shortcut": "/hello",
    "title": "Greeting",
    "body": "Hi {{visitor.name|there}}, I'm {{agent.name}}.",
}


def add(tenant, shortcut="hello", title="Greeting", body=HELLO["body"]) -> CannedReply:
    with tenant_context(tenant):
        return canned_reply_create(tenant=tenant, shortcut=shortcut, title=title, body=body)


def flash(response) -> list[str]:
    return re.findall(r'<li class="flash-\w+">([^<]+)</li>', response.content.decode())


def field_errors(response, name: str) -> list[str]:
    """The errors shown in the field `name`'s block of the form."""
    page = response.content.decode()
    block = re.search(
        rf'<div class="field has-error">\s*<label for="id_{name}">.*?</div>', page, re.S
    )
    return re.findall(r'<p class="error">([^<]+)</p>', block.group(0)) if block else []


def test_an_admin_creates_edits_and_deletes_a_reply_confirmed_each_time(
    tenant_a, admin, tenant_client
):
    browser = tenant_client(tenant_a, admin)
    created = browser.post("/canned-replies/", HELLO, follow=True)
    assert flash(created) == ["Canned reply /hello created."]
    with tenant_context(tenant_a):
        reply = CannedReply.objects.get()
    assert (reply.shortcut, reply.created_by_id) == ("hello", admin.pk)
    page = created.content.decode()
    assert '<code class="canned-shortcut">/hello</code>' in page
    assert "Hi {{visitor.name|there}}, I&#x27;m {{agent.name}}." in page
    assert "Added by admin" in page

    edit = browser.get(f"/canned-replies/{reply.pk}/")
    assert edit.status_code == 200
    assert 'value="hello"' in edit.content.decode()
    saved = browser.post(
        f"/canned-replies/{reply.pk}/",
        {**HELLO, "shortcut": "hi", "body": "Hello {{visitor.first_name|there}}!"},
        follow=True,
    )
    assert flash(saved) == ["Canned reply /hi saved."]
    deleted = browser.post(f"/canned-replies/{reply.pk}/delete/", follow=True)
    assert flash(deleted) == ["Canned reply /hi deleted."]
    assert "No canned replies yet." in deleted.content.decode()

    entries = AuditEntry.objects.filter(tenant=tenant_a, action__startswith="canned_reply.")
    assert [(e.action, e.target, e.actor_label) for e in entries.order_by("id")] == [
        ("canned_reply.created", "/hello", "admin@alpha.test"),
        ("canned_reply.updated", "/hi", "admin@alpha.test"),
        ("canned_reply.deleted", "/hi", "admin@alpha.test"),
    ]
    assert entries.get(action="canned_reply.updated").details == {
        "shortcut": {"from": "hello", "to": "hi"},
        "body": "changed",
    }


@pytest.mark.parametrize(
    ("posted", "field", "shown"),
    [
        (
            {"shortcut": "HELLO"},
            "shortcut",
            "The shortcut /hello is taken by another canned reply.",
        ),
        ({"shortcut": "two words"}, "shortcut", "letters, digits, - and _ only"),
        ({"title": ""}, "title", "This field is required."),
        ({"body": "Hi {{visitor.nmae}}"}, "body", "{{visitor.nmae}} is not a variable"),
        ({"body": "x" * 3001}, "body", "Ensure this value has at most 3000 characters"),
    ],
)
def test_a_refused_reply_is_shown_again_with_the_reason_and_what_was_typed(
    tenant_a, owner, tenant_client, posted, field, shown
):
    add(tenant_a)
    browser = tenant_client(tenant_a, owner)
    new = {
        "shortcut": "thanks",
        "title": "Thanks",
        "body": "Thank you for your patience.",
        **posted,
    }
    response = browser.post("/canned-replies/", new)
    assert response.status_code == 400
    assert any(shown in error for error in field_errors(response, field)), response.content
    if field != "body":
        assert "Thank you for your patience.</textarea>" in response.content.decode()
    with tenant_context(tenant_a):
        assert CannedReply.objects.count() == 1

    # The same rules when a reply is changed; the stored one stays as it was.
    other = add(tenant_a, shortcut="later", title="Later", body="Later!")
    changed = browser.post(f"/canned-replies/{other.pk}/", new)
    assert changed.status_code == 400
    assert any(shown in error for error in field_errors(changed, field))
    with tenant_context(tenant_a):
        other.refresh_from_db()
    assert (other.shortcut, other.title, other.body) == ("later", "Later", "Later!")


def test_an_agent_reads_the_replies_but_changes_nothing(tenant_a, agent, tenant_client):
    reply = add(tenant_a)
    browser = tenant_client(tenant_a, agent)
    page = browser.get("/canned-replies/")
    assert page.status_code == 200
    text = page.content.decode()
    assert 'id="nav-canned-replies" aria-current="page"' in text
    assert '<code class="canned-shortcut">/hello</code>' in text
    assert 'id="canned-form"' not in text
    assert f'href="/canned-replies/{reply.pk}/"' not in text
    assert "Admins and owners add and change them." in text

    assert browser.post("/canned-replies/", {**HELLO, "shortcut": "mine"}).status_code == 403
    assert browser.get(f"/canned-replies/{reply.pk}/").status_code == 403
    assert browser.post(f"/canned-replies/{reply.pk}/", HELLO).status_code == 403
    assert browser.post(f"/canned-replies/{reply.pk}/delete/").status_code == 403
    with tenant_context(tenant_a):
        assert list(CannedReply.objects.values_list("shortcut", "title")) == [("hello", "Greeting")]


def test_another_tenants_reply_is_not_found(tenant_a, tenant_b, owner, tenant_client):
    ours = add(tenant_a, shortcut="ours")
    with tenant_context(tenant_b):  # ids are per schema: one that A does not have
        theirs = CannedReply.objects.create(
            pk=ours.pk + 10_000, shortcut="secret", title="Their secret", body="Their words"
        )
    browser = tenant_client(tenant_a, owner)
    for pk in (theirs.pk, theirs.pk + 1):  # B's, and one nobody has: the same answer
        assert browser.get(f"/canned-replies/{pk}/").status_code == 404
        assert browser.post(f"/canned-replies/{pk}/", HELLO).status_code == 404
        assert browser.post(f"/canned-replies/{pk}/delete/").status_code == 404
    assert "Their words" not in browser.get("/canned-replies/").content.decode()
    with tenant_context(tenant_b):
        assert CannedReply.objects.filter(pk=theirs.pk).exists()


def test_the_conversation_page_carries_the_replies_filled_in(tenant_a, admin, tenant_client):
    add(tenant_a)
    add(tenant_a, shortcut="mail", title="Email", body="We write to {{visitor.email|you}}.")
    conversation = visitor_conversation(
        tenant_a,
        room="cv_canned",
        texts=(("visitor", "Hello?"),),
        name="Greta",
        email="g@mail.test",
    )
    page = tenant_client(tenant_a, admin).get(f"/conversations/{conversation.pk}/").content.decode()
    found = re.search(r'<script id="canned-replies" type="application/json">(.*?)</script>', page)
    assert json.loads(found.group(1)) == [
        {"shortcut": "hello", "title": "Greeting", "text": "Hi Greta, I'm admin."},
        {"shortcut": "mail", "title": "Email", "text": "We write to g@mail.test."},
    ]
    assert 'id="canned-picker" role="listbox"' in page
    assert "canned_replies.js" in page
