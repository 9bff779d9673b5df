"""Times in the agent's zone: the member's own zone, else the one their browser reported in the
`parley_tz` cookie, else UTC; one rendering rule for the server and the page's scripts."""

from datetime import UTC, datetime

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context

from dashboard.timezones import chat_time_text, chat_time_title, time_zone_named
from tests.dashboard.test_inbox import conversation_with_messages
from widget.models import Message

pytestmark = pytest.mark.django_db

ASKED = datetime(2026, 11, 24, 22, 47, tzinfo=UTC)


@pytest.fixture
def asked_at_22_47_utc(tenant_a):
    conversation = conversation_with_messages(
        tenant_a, room="cv_tz", visitor_name="Tomas", texts=[("visitor", "Still open?")]
    )
    with tenant_context(tenant_a):
        Message.objects.filter(conversation=conversation).update(created_at=ASKED)
    return conversation


def _page(tenant_client, tenant, member, conversation, **cookies):
    client = tenant_client(tenant, member)
    for name, value in cookies.items():
        client.cookies[name] = value
    return client.get(f"/conversations/{conversation.pk}/").content.decode()


def test_the_browsers_zone_from_its_cookie(tenant_a, agent, asked_at_22_47_utc, tenant_client):
    html = _page(tenant_client, tenant_a, agent, asked_at_22_47_utc, parley_tz="Europe/Berlin")
    assert ">Nov 24, 23:47</time>" in html
    assert 'data-time-zone="Europe/Berlin"' in html
    assert 'data-time-zone-source="browser"' in html


def test_the_members_own_zone_wins_over_the_browsers(
    tenant_a, agent, asked_at_22_47_utc, tenant_client
):
    with tenant_context(tenant_a):
        agent.time_zone = "America/New_York"
        agent.save(update_fields=["time_zone"])
    html = _page(tenant_client, tenant_a, agent, asked_at_22_47_utc, parley_tz="Europe/Berlin")
    assert ">Nov 24, 17:47</time>" in html
    assert 'data-time-zone-source="member"' in html


@pytest.mark.parametrize("cookie", ["Mars/Olympus", "../../etc/passwd", "", "x" * 500])
def test_a_made_up_zone_is_ignored_for_utc(
    cookie, tenant_a, agent, asked_at_22_47_utc, tenant_client
):
    html = _page(tenant_client, tenant_a, agent, asked_at_22_47_utc, parley_tz=cookie)
    assert ">Nov 24, 22:47</time>" in html
    assert 'data-time-zone-source="default"' in html


def test_same_day_is_hours_and_minutes_else_the_date_too():
    with timezone.override(time_zone_named("Asia/Tokyo")):
        now = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)  # 10:00 in Tokyo
        assert chat_time_text(datetime(2026, 11, 24, 16, 5, tzinfo=UTC), now) == "01:05"
        assert chat_time_text(datetime(2026, 11, 24, 14, 5, tzinfo=UTC), now) == "Nov 24, 23:05"
        assert chat_time_title(ASKED) == "Wednesday, November 25, 2026, 07:47 (Asia/Tokyo)"
