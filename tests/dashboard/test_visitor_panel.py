"""The conversation page's visitor panel (dashboard/_visitor_panel.html): the visitor's page,
browser, language, local time, place, attributes and other conversations; the visitor's "Seen"
after a reload; the site setting of the typing preview."""

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context

from tenants.models import Site
from tenants.services import site_create
from tests.support.factories import visitor_conversation
from widget.models import Conversation, Message
from widget.services.messages import message_post

pytestmark = pytest.mark.django_db


def _visitor_conversation(tenant, *, room: str, **visitor_fields) -> Conversation:
    return visitor_conversation(tenant, room=room, name="Greta", **visitor_fields)


def _post(tenant, conversation, kind: str, text: str) -> Message:
    with tenant_context(tenant):
        message, _ = message_post(
            tenant_id=tenant.id,
            conversation=conversation,
            text=text,
            author_kind=kind,
            author_name="Greta" if kind == "visitor" else "Ann",
        )
        return message


@pytest.fixture
def greta(tenant_a) -> Conversation:
    return _visitor_conversation(
        tenant_a,
        room="cv_greta",
        page_url="https://shop.example/cart?step=2",
        page_title="Your cart",
        referrer="https://www.google.com/",
        locale="de-AT",
        time_zone="Europe/Vienna",
        browser="Firefox 133",
        os="Windows 11",
        device="",
        country="Austria",
        city="Vienna",
        attributes={"plan": "pro", "seats": 3},
    )


def test_the_panel_shows_what_the_browser_reported(tenant_a, agent, greta, tenant_client):
    page = tenant_client(tenant_a, agent).get(f"/conversations/{greta.pk}/").content.decode()
    assert 'href="https://shop.example/cart?step=2"' in page
    assert ">Your cart</a>" in page
    assert "https://www.google.com/" in page
    assert "Firefox 133 on Windows 11" in page
    assert "de-AT" in page
    assert "(Europe/Vienna)" in page
    assert "Vienna, Austria" in page
    assert '<dt class="break">plan</dt><dd class="break">pro</dd>' in page
    assert 'src="/static/dashboard/visitor_panel.js"' in page


def test_the_panel_links_the_visitors_other_conversations_only(
    tenant_a, agent, greta, tenant_client
):
    with tenant_context(tenant_a):
        earlier = Conversation.objects.create(
            room="cv_greta_old", site_id=1, visitor=greta.visitor, last_message_at=timezone.now()
        )
        # A widget session's row where nothing was said (a "New conversation" not written in).
        empty = Conversation.objects.create(room="cv_greta_new", site_id=1, visitor=greta.visitor)
        someone_else = _visitor_conversation(tenant_a, room="cv_other")
    _post(tenant_a, earlier, "visitor", "My <b>tent</b> pole snapped")
    _post(tenant_a, earlier, "agent", "We are sending a new one.")
    with tenant_context(tenant_a):
        message_post(
            tenant_id=tenant_a.id,
            conversation=earlier,
            text="Internal: refund approved",
            author_kind="agent",
            private=True,
        )
    page = tenant_client(tenant_a, agent).get(f"/conversations/{greta.pk}/").content.decode()
    assert f'href="/conversations/{earlier.pk}/"' in page
    # Its last message, the team's notes aside, says what it was about.
    assert '<span class="past-text muted">We are sending a new one.</span>' in page
    assert "refund approved" not in page
    assert f'href="/conversations/{empty.pk}/"' not in page
    assert f'href="/conversations/{someone_else.pk}/"' not in page
    assert f'href="/conversations/{greta.pk}/"' not in page


def test_a_javascript_page_url_never_becomes_a_link(tenant_a, agent, tenant_client):
    conversation = _visitor_conversation(tenant_a, room="cv_js", page_url="javascript:alert(1)")
    page = tenant_client(tenant_a, agent).get(f"/conversations/{conversation.pk}/").content.decode()
    assert 'href="javascript:' not in page


def test_the_visitors_seen_is_shown_after_a_reload(tenant_a, agent, greta, tenant_client):
    client = tenant_client(tenant_a, agent)
    _post(tenant_a, greta, "visitor", "Hello?")
    answer = _post(tenant_a, greta, "agent", "Hi Greta")
    page = client.get(f"/conversations/{greta.pk}/").content.decode()
    assert "Seen by Greta" not in page
    with tenant_context(tenant_a):
        Conversation.objects.filter(pk=greta.pk).update(visitor_read_up_to=answer.id)
    page = client.get(f"/conversations/{greta.pk}/").content.decode()
    assert '<p class="seen muted" id="seen">Seen by Greta</p>' in page


def test_an_admin_turns_the_typing_preview_on_for_a_site(tenant_a, owner, tenant_client):
    site = site_create(tenant=tenant_a, name="Shop", allowed_origins=["https://shop.example"])
    client = tenant_client(tenant_a, owner)
    form = {
        "name": "Shop",
        "allowed_origins": "https://shop.example",
        "color": "#4f46e5",
        "greeting": "Hi",
        "position": "right",
        "locale": "en",
        "typing_preview": "on",
    }
    assert "Show agents what visitors type" in client.get(f"/sites/{site.pk}/").content.decode()
    response = client.post(f"/sites/{site.pk}/", form)
    assert response.status_code == 302
    assert Site.objects.get(pk=site.pk).typing_preview is True
    client.post(f"/sites/{site.pk}/", {**form, "typing_preview": ""})
    assert Site.objects.get(pk=site.pk).typing_preview is False


def test_the_panel_shows_the_prechat_answers_by_their_labels(tenant_a, agent, tenant_client):
    conversation = _visitor_conversation(
        tenant_a,
        room="cv_prechat",
        prechat_answers=[
            {"key": "topic", "label": "Topic", "value": "Tents"},
            {"key": "news", "label": "Send me news", "value": True},
        ],
    )
    page = tenant_client(tenant_a, agent).get(f"/conversations/{conversation.pk}/").content.decode()
    assert '<dt class="break">Topic</dt><dd class="break">Tents</dd>' in page
    assert '<dt class="break">Send me news</dt><dd class="break">Yes</dd>' in page
    empty = _visitor_conversation(tenant_a, room="cv_no_prechat")
    page = tenant_client(tenant_a, agent).get(f"/conversations/{empty.pk}/").content.decode()
    assert '<dl class="facts" id="visitor-prechat">' in page
