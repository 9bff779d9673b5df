"""A visitor's data on request: one JSON document with everything kept about them (their record,
conversations with every message, notes marked, ratings, files described, public-room words),
from the site-key API and the dashboard (admins and owners only); and erasure from the
dashboard. Another visitor's or another tenant's data is never in it."""

import json

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django_tenants.utils import schema_context, tenant_context

from tests.support.api_clients import error_code
from tests.support.factories import visitor_conversation
from widget.models import Conversation, Message, Rating, Visitor
from widget.services.messages import message_post
from widget.services.visitor_data import visitor_export

pytestmark = pytest.mark.django_db


def greta(tenant):
    conversation = visitor_conversation(
        tenant,
        room="cv_greta",
        texts=(("visitor", "Where is my parcel?"), ("agent", "On its way.")),
        name="Greta",
        email="greta@example.com",
        attributes={"plan": "pro"},
    )
    with tenant_context(tenant):
        message_post(
            tenant_id=tenant.id,
            conversation=conversation,
            text="Third time she asks.",
            author_kind="agent",
            author_name="Ann",
            private=True,
        )
        Rating.objects.create(conversation=conversation, site_id=1, score=4, comment="Quick")
    visitor_conversation(tenant, room="cv_other", texts=(("visitor", "Not Greta's words"),))
    return conversation


def test_the_export_holds_everything_about_the_visitor_and_nothing_else(tenant_a):
    conversation = greta(tenant_a)
    with tenant_context(tenant_a):
        public = Conversation.objects.create(room="lobby", site_id=1, kind="public")
        Message.objects.create(
            conversation=public,
            author_kind="visitor",
            author_id=str(conversation.visitor_id),
            text="Hello lobby",
        )
        data = visitor_export(visitor=Visitor.objects.get(pk=conversation.visitor_id))
    json.dumps(data)  # plain JSON throughout
    assert data["visitor"]["email"] == "greta@example.com"
    assert data["visitor"]["attributes"] == {"plan": "pro"}
    [only] = data["conversations"]
    assert [m["text"] for m in only["messages"]] == [
        "Where is my parcel?",
        "On its way.",
        "Third time she asks.",
    ]
    assert [m["private"] for m in only["messages"]] == [False, False, True]
    assert only["rating"] == {"score": 4, "comment": "Quick"}
    assert [m["text"] for m in data["public_room_messages"]] == ["Hello lobby"]
    assert "Not Greta's words" not in json.dumps(data)


def test_the_site_key_api_exports_a_visitor_of_its_own_tenant_only(tenant_a, api_a, api_b):
    conversation = greta(tenant_a)
    url = f"/api/v1/visitors/{conversation.visitor_id}/export"
    answer = api_a.get(url)
    assert answer.status_code == 200
    assert answer.json()["visitor"]["name"] == "Greta"
    foreign = api_b.get(url)
    assert (foreign.status_code, error_code(foreign)) == (404, "not_found")


def member(tenant, role: str):
    with schema_context(tenant.schema_name):
        user = get_user_model().objects.create_user(
            email=f"{role}@{tenant.slug}.test", password="x", role=role
        )
    client = Client(HTTP_HOST=f"{tenant.slug}.localhost")
    with tenant_context(tenant):
        client.force_login(user)
    return client


def test_admins_download_and_erase_from_the_dashboard_and_agents_cannot(tenant_a):
    conversation = greta(tenant_a)
    visitor_id = conversation.visitor_id
    agent, admin = member(tenant_a, "agent"), member(tenant_a, "admin")
    page = admin.get(f"/conversations/{conversation.pk}/").content.decode()
    assert 'id="visitor-export"' in page
    assert (
        'id="visitor-export"'
        not in agent.get(f"/conversations/{conversation.pk}/").content.decode()
    )

    assert agent.get(f"/visitors/{visitor_id}/export/").status_code == 403
    download = admin.get(f"/visitors/{visitor_id}/export/")
    assert download.status_code == 200
    assert download["Content-Disposition"] == f'attachment; filename="visitor-{visitor_id}.json"'
    assert json.loads(download.content)["visitor"]["email"] == "greta@example.com"

    assert agent.post(f"/visitors/{visitor_id}/erase/").status_code == 403
    erased = admin.post(f"/visitors/{visitor_id}/erase/", follow=True)
    assert "The visitor and everything they wrote are erased." in erased.content.decode()
    with tenant_context(tenant_a):
        assert not Visitor.objects.filter(pk=visitor_id).exists()
        assert not Conversation.objects.filter(pk=conversation.pk).exists()
        assert Conversation.objects.filter(room="cv_other").exists()
    assert admin.get(f"/visitors/{visitor_id}/export/").status_code == 404
