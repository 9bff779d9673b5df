"""The inbox's list: a conversation appears once something is said; views with their unread
counts, pages of 50 with no upper limit, snoozed conversations out of the open views, labels,
search with safe highlighting, bulk actions by one form post, and the labels page."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context

from accounts.models import Role
from tests.support.factories import visitor_conversation
from widget.models import Conversation, Label, Message, Visitor
from widget.services.labels import label_create

pytestmark = pytest.mark.django_db


def chat(tenant, name: str, *texts: str, room: str | None = None, read: bool = False):
    conversation = visitor_conversation(
        tenant,
        room=room or f"cv_{name.lower()}",
        texts=tuple(("visitor", text) for text in texts),
        name=name,
        email=f"{name.lower()}@mail.test",
    )
    if read and texts:
        with tenant_context(tenant):
            latest = conversation.messages.order_by("-id").first()
            Conversation.objects.filter(pk=conversation.pk).update(agent_read_up_to=latest.id)
            conversation.refresh_from_db()
    return conversation


def rows(page: str) -> list[str]:
    return re.findall(r'<span class="who">([^<]+)</span>', page)


def view_count(page: str, key: str) -> int:
    found = re.search(
        rf'data-view="{key}"[^>]*>[^<]*<span class="view-count" data-count="(\d+)"', page
    )
    return int(found.group(1))


def test_a_session_without_a_message_is_no_row(tenant_a, agent, tenant_client):
    chat(tenant_a, "Silent")
    chat(tenant_a, "Speaker", "Hello")
    page = tenant_client(tenant_a, agent).get("/").content.decode()
    assert rows(page) == ["Speaker"]
    assert "No messages yet" not in page


def test_pages_of_fifty_follow_the_last_activity_without_an_upper_limit(
    tenant_a, agent, tenant_client
):
    with tenant_context(tenant_a):
        visitor = Visitor.objects.create(site_id=1, name="Many")
        start = timezone.now() - timedelta(days=1)
        made = Conversation.objects.bulk_create(
            Conversation(
                room=f"cv_p{n:03}",
                site_id=1,
                visitor=visitor,
                last_message_at=start + timedelta(minutes=n // 2),  # ties broken by id
            )
            for n in range(123)
        )
    client = tenant_client(tenant_a, agent)
    seen, url, pages = [], "/?view=open", 0
    while url:
        page = client.get(url.replace("&amp;", "&")).content.decode()
        seen += re.findall(r'data-room="(cv_p\d+)"', page)
        pages += 1
        older = re.search(r'href="([^"]+)" id="older-page"', page)
        url = older.group(1) if older else None
    expected = [c.room for c in sorted(made, key=lambda c: (c.last_message_at, c.pk), reverse=True)]
    assert pages == 3
    assert seen == expected  # every one once, newest activity first
    assert client.get("/?view=open&cursor=forged").status_code == 200  # back to the first page


def test_views_count_the_conversations_with_unread_visitor_messages(tenant_a, agent, tenant_client):
    mine = chat(tenant_a, "Mia", "one", "two")
    chat(tenant_a, "Ulla", "hi")
    chat(tenant_a, "Reed", "already read", read=True)
    snoozed = chat(tenant_a, "Sam", "later please")
    with tenant_context(tenant_a):
        Conversation.objects.filter(pk=mine.pk).update(assignee=agent)
        Conversation.objects.filter(pk=snoozed.pk).update(
            snoozed_until=timezone.now() + timedelta(hours=1)
        )
    page = tenant_client(tenant_a, agent).get("/").content.decode()
    assert sorted(rows(page)) == ["Mia", "Reed", "Ulla"]  # Sam is snoozed
    assert (view_count(page, "open"), view_count(page, "mine")) == (2, 1)
    assert (view_count(page, "unassigned"), view_count(page, "snoozed")) == (1, 1)
    assert 'data-count="2"' in page  # Mia's row: two unread messages
    snoozed_page = tenant_client(tenant_a, agent).get("/?view=snoozed").content.decode()
    assert rows(snoozed_page) == ["Sam"]
    # Its time comes: back in the open views, with no job run.
    with tenant_context(tenant_a):
        Conversation.objects.filter(pk=snoozed.pk).update(
            snoozed_until=timezone.now() - timedelta(seconds=1)
        )
    assert "Sam" in rows(tenant_client(tenant_a, agent).get("/").content.decode())


def test_the_counts_alone_answer_as_json_as_the_page_shows_them(tenant_a, agent, tenant_client):
    """What inbox_list.js asks for after frames, instead of the whole page."""
    chat(tenant_a, "Mia", "one")
    with tenant_context(tenant_a):
        label = label_create(name="Billing")
    billing = chat(tenant_a, "Bo", "invoice?")
    with tenant_context(tenant_a):
        billing.labels.add(label)
    client = tenant_client(tenant_a, agent)
    counts = client.get("/inbox/counts/").json()
    page = client.get("/").content.decode()
    assert counts["open"] == view_count(page, "open") == 2
    assert counts[f"label:{label.pk}"] == 1
    assert client.post("/inbox/counts/").status_code == 405


def test_a_labels_view_lists_its_conversations_with_chips(tenant_a, agent, tenant_client):
    billing = chat(tenant_a, "Bill", "invoice?")
    chat(tenant_a, "Other", "hello")
    with tenant_context(tenant_a):
        label = label_create(name="Billing", color="#2563eb")
        billing.labels.add(label)
    client = tenant_client(tenant_a, agent)
    page = client.get("/", {"label": label.pk}).content.decode()
    assert rows(page) == ["Bill"]
    assert f'class="chip" data-label="{label.pk}" data-color="#2563eb">Billing</span>' in page


def test_search_finds_words_names_and_emails_and_marks_only_the_matches(
    tenant_a, tenant_b, agent, tenant_client
):
    chat(tenant_a, "Ann", 'My refund please, 2 < 3 & "thanks" <img src=x onerror=alert(1)>')
    chat(tenant_a, "Zed", "nothing here")
    chat(tenant_a, "Carla", "hi")
    chat(tenant_b, "Bea", "refund for beta")
    client = tenant_client(tenant_a, agent)
    page = client.get("/", {"q": "refund"}).content.decode()
    assert rows(page) == ["Ann"]
    assert "<mark>refund</mark> please, 2 &lt; 3 &amp; &quot;thanks&quot; &lt;img" in page
    assert "<img" not in page
    assert "Bea" not in page
    assert "beta" not in page
    assert rows(client.get("/", {"q": "carla@mail"}).content.decode()) == ["Carla"]
    assert rows(client.get("/", {"q": "zed"}).content.decode()) == ["Zed"]
    # websearch syntax: a phrase, an exclusion; odd input is no error
    assert rows(client.get("/", {"q": '"refund please" -beta'}).content.decode()) == ["Ann"]
    for odd in ['"', "-", "&|!", "'", "a" * 500]:
        assert client.get("/", {"q": odd}).status_code == 200
    with tenant_context(tenant_a):
        note = Conversation.objects.get(room="cv_zed")
        Message.objects.create(
            conversation=note, text="secret plan", author_kind="agent", private=True
        )
    assert rows(client.get("/", {"q": "secret"}).content.decode()) == ["Zed"]


def test_bulk_actions_are_one_post_that_works_without_javascript(
    tenant_a, agent, make_member, tenant_client
):
    ada = make_member(tenant_a, "ada@alpha.test", Role.AGENT)
    one, two, three = (
        chat(tenant_a, "One", "a"),
        chat(tenant_a, "Two", "b"),
        chat(tenant_a, "Three", "c"),
    )
    with tenant_context(tenant_a):
        label = label_create(name="vip")
    client = tenant_client(tenant_a, agent)
    answer = client.post(
        "/conversations/bulk/",
        {"ids": [one.pk, two.pk], "action": "assign", "assignee": ada.pk, "next": "/?view=open"},
    )
    assert answer.status_code == 302
    assert answer["Location"] == "/?view=open"
    client.post(
        "/conversations/bulk/",
        {
            "all_on_page": "1",
            "page_ids": [one.pk, two.pk, three.pk],
            "action": "label",
            "label": label.pk,
        },
    )
    client.post("/conversations/bulk/", {"ids": [three.pk], "action": "close"})
    with tenant_context(tenant_a):
        assert set(Conversation.objects.filter(assignee=ada).values_list("pk", flat=True)) == {
            one.pk,
            two.pk,
        }
        assert Label.objects.get(pk=label.pk).conversations.count() == 3
        assert Conversation.objects.get(pk=three.pk).status == "closed"
    refused = client.post("/conversations/bulk/", {"action": "close"}, follow=True)
    assert "Choose at least one conversation." in refused.content.decode()
    assert client.post("/conversations/bulk/", {"ids": ["x"], "action": "close"}).status_code == 302


def test_labels_are_managed_by_admins_and_put_on_conversations_by_anyone(
    tenant_a, agent, make_member, tenant_client
):
    admin = make_member(tenant_a, "admin@alpha.test", Role.ADMIN)
    assert tenant_client(tenant_a, agent).get("/labels/").status_code == 403
    client = tenant_client(tenant_a, admin)
    client.post("/labels/", {"name": "Bug", "color": "#dc2626"})
    refused = client.post("/labels/", {"name": "bug", "color": "#000000"}, follow=True)
    assert "exists already" in refused.content.decode()
    with tenant_context(tenant_a):
        bug = Label.objects.get()
    client.post(f"/labels/{bug.pk}/", {"name": "Bugs", "color": "#b91c1c"})
    conversation = chat(tenant_a, "Ivy", "it broke")
    by_agent = tenant_client(tenant_a, agent)
    by_agent.post(f"/conversations/{conversation.pk}/labels/", {"label": bug.pk})
    page = by_agent.get(f"/conversations/{conversation.pk}/").content.decode()
    assert "Bugs" in page
    assert "Remove the label Bugs" in page
    by_agent.post(f"/conversations/{conversation.pk}/labels/{bug.pk}/remove/")
    with tenant_context(tenant_a):
        assert not conversation.labels.exists()
    client.post(f"/labels/{bug.pk}/delete/")
    with tenant_context(tenant_a):
        assert not Label.objects.exists()


def test_snoozing_from_the_conversation_page(tenant_a, agent, tenant_client):
    conversation = chat(tenant_a, "Nap", "call me tomorrow")
    client = tenant_client(tenant_a, agent)
    client.post(f"/conversations/{conversation.pk}/snooze/", {"choice": "tomorrow"})
    with tenant_context(tenant_a):
        conversation.refresh_from_db()
    local = timezone.localtime(conversation.snoozed_until)
    assert (local.hour, local.minute) == (9, 0)
    assert local.date() == (timezone.localtime() + timedelta(days=1)).date()
    page = client.get(f"/conversations/{conversation.pk}/").content.decode()
    assert "Snoozed until" in page
    assert "Nap" not in rows(client.get("/").content.decode())
    client.post(f"/conversations/{conversation.pk}/unsnooze/")
    assert "Nap" in rows(client.get("/").content.decode())
    past = client.post(
        f"/conversations/{conversation.pk}/snooze/",
        {"choice": "custom", "until": "2001-01-01T09:00"},
        follow=True,
    )
    assert "a time in the future" in past.content.decode()
    assert (
        client.post(f"/conversations/{conversation.pk}/snooze/", {"choice": "custom"}).status_code
        == 302
    )


def test_another_tenants_conversations_and_labels_are_out_of_reach(
    tenant_a, tenant_b, agent, tenant_client
):
    theirs = chat(tenant_b, "Bob", "beta only")
    with tenant_context(tenant_b):
        their_label = label_create(name="beta-label")
    client = tenant_client(tenant_a, agent)
    client.post("/conversations/bulk/", {"ids": [theirs.pk], "action": "close"})
    with tenant_context(tenant_b):
        theirs.refresh_from_db()
        assert theirs.status == "open"
    assert client.post(f"/conversations/{theirs.pk}/snooze/", {"choice": "later"}).status_code in (
        302,
        404,
    )
    page = client.get("/", {"label": their_label.pk}).content.decode()
    assert "Bob" not in page
    assert "beta-label" not in page
