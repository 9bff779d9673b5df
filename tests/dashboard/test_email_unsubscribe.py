"""The emails' unsubscribe page on the platform host: GET asks, POST (the button, or a mail
provider's RFC 8058 one-click request without cookies or form token) stops the emails."""

import pytest
from django.conf import settings
from django.test import Client
from django_tenants.utils import tenant_context

from accounts.models import User
from tenants.services import public_tenant_ensure
from tests.support.factories import make_agent, visitor_conversation
from widget.mail.unsubscribe import unsubscribe_url
from widget.models import Visitor

pytestmark = pytest.mark.django_db


@pytest.fixture
def platform_client(db):
    public_tenant_ensure()
    return Client(HTTP_HOST=settings.PLATFORM_HOST, enforce_csrf_checks=True)


def path_of(url: str) -> str:
    return url.removeprefix(settings.PLATFORM_URL)


def test_a_visitors_link_asks_then_one_click_stops_their_emails(platform_client, tenant_a):
    conversation = visitor_conversation(tenant_a, room="cv_unsub", email="grace@example.com")
    path = path_of(unsubscribe_url(tenant_id=tenant_a.id, visitor_id=conversation.visitor_id))
    page = platform_client.get(path)
    assert page.status_code == 200
    assert "Stop these emails?" in page.content.decode()
    assert "Alpha Inc" in page.content.decode()
    with tenant_context(tenant_a):
        assert Visitor.objects.get(pk=conversation.visitor_id).email_unsubscribed_at is None

    done = platform_client.post(
        path, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )
    assert done.status_code == 200
    assert "You are unsubscribed" in done.content.decode()
    with tenant_context(tenant_a):
        first = Visitor.objects.get(pk=conversation.visitor_id).email_unsubscribed_at
    assert first is not None
    assert platform_client.post(path).status_code == 200  # again: the same answer
    with tenant_context(tenant_a):
        assert Visitor.objects.get(pk=conversation.visitor_id).email_unsubscribed_at == first


def test_an_agents_link_stops_their_unanswered_conversation_emails(platform_client, tenant_a):
    agent = make_agent(tenant_a)
    with tenant_context(tenant_a):
        User.objects.filter(pk=agent.user_id).update(notify_unanswered_minutes=15)
    path = path_of(unsubscribe_url(tenant_id=tenant_a.id, member_id=agent.user_id))
    assert "unanswered" in platform_client.get(path).content.decode()
    assert platform_client.post(path).status_code == 200
    with tenant_context(tenant_a):
        assert User.objects.get(pk=agent.user_id).notify_unanswered_minutes is None


def test_an_altered_or_foreign_link_is_not_recognised(platform_client, tenant_a):
    conversation = visitor_conversation(tenant_a, room="cv_unsub2", email="grace@example.com")
    path = path_of(unsubscribe_url(tenant_id=tenant_a.id, visitor_id=conversation.visitor_id))
    altered = path[:-3] + ("A" if path[-3] != "A" else "B") + path[-2:]
    for wrong in (altered, "/email/unsubscribe/nonsense/"):
        answer = platform_client.post(wrong)
        assert answer.status_code == 404
        assert "not recognised" in answer.content.decode()
    with tenant_context(tenant_a):
        assert Visitor.objects.get(pk=conversation.visitor_id).email_unsubscribed_at is None
