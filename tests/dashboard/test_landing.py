"""The platform host's front page: it says what Parley is, leads to signup, and "find my
dashboard" emails the dashboards an address belongs to, telling the page nothing about who has an
account."""

import pytest
from django.conf import settings
from django.core import mail
from django.core.cache import cache
from django.test import Client

from tenants.services import public_tenant_ensure
from tests.support.factories import make_agent

pytestmark = pytest.mark.django_db


@pytest.fixture
def platform_client(db):
    public_tenant_ensure()
    cache.clear()
    return Client(HTTP_HOST=settings.PLATFORM_HOST)


def test_the_front_page_is_parleys_and_leads_to_signup(platform_client):
    page = platform_client.get("/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Talk to the people on your website" in text
    assert 'href="/signup/"' in text


def test_find_my_dashboard_emails_the_dashboards_and_says_the_same_to_strangers(
    platform_client, tenant_a, tenant_b
):
    member = make_agent(tenant_a)
    answer = platform_client.post("/find-dashboard/", {"email": member.email.upper()})
    assert answer.status_code == 200
    assert "an email with the address of its dashboard is on its way" in answer.content.decode()
    assert len(mail.outbox) == 1
    assert "Alpha Inc" in mail.outbox[0].body
    assert "Beta LLC" not in mail.outbox[0].body

    stranger = platform_client.post("/find-dashboard/", {"email": "nobody@example.com"})
    assert stranger.status_code == 200
    assert "is on its way" in stranger.content.decode()
    assert len(mail.outbox) == 1


def test_find_my_dashboard_is_throttled_per_address(platform_client, settings):
    settings.FIND_DASHBOARD_RATE_LIMIT = (2, 3600)
    for _ in range(2):
        assert (
            platform_client.post("/find-dashboard/", {"email": "a@example.com"}).status_code == 200
        )
    throttled = platform_client.post("/find-dashboard/", {"email": "a@example.com"})
    assert throttled.status_code == 429
    assert "Too many requests" in throttled.content.decode()
