"""What the widget is told of who answers and when (widget.availability, PROTOCOL.md Status): the
tenant's median first reply, the site's hours in the session answer and the socket's `ready`, and
the `status` frame the widget asks for when its hours open or close."""

from datetime import UTC, datetime, timedelta

import pytest
from channels.db import database_sync_to_async
from django_tenants.utils import schema_context

from core.caches import clear_all
from tenants.hours import schedule_parse
from tenants.services import site_update
from tenants.site_directory import site_cache_clear, site_for_key
from tests.support.api_clients import PlatformClient
from tests.support.sockets import expect, joined, of_type
from widget import availability
from widget.models import Conversation, Message, Visitor

ALWAYS_CLOSED = {"weekly_hours": {}, "hours_enabled": True, "time_zone": "Europe/Paris"}


def conversation_answered_after(site_id: int, minutes: float | None, *, name: str, ago=1):
    """A conversation whose visitor wrote `ago` days ago and was answered `minutes` later."""
    asked_at = datetime.now(UTC) - timedelta(days=ago)
    visitor = Visitor.objects.create(site_id=site_id, name=name)
    conversation = Conversation.objects.create(
        site_id=site_id, room=f"cv_{name}", visitor=visitor, last_message_at=asked_at
    )
    message = Message.objects.create(
        conversation=conversation, author_kind="visitor", text="Hello?"
    )
    Message.objects.filter(pk=message.pk).update(created_at=asked_at)
    if minutes is not None:
        answer = Message.objects.create(conversation=conversation, author_kind="agent", text="Hi")
        Message.objects.filter(pk=answer.pk).update(
            created_at=asked_at + timedelta(minutes=minutes)
        )
    # A private note sooner than the answer is no answer.
    note = Message.objects.create(
        conversation=conversation, author_kind="agent", text="note", private=True
    )
    Message.objects.filter(pk=note.pk).update(created_at=asked_at + timedelta(seconds=5))


@pytest.mark.django_db
def test_the_reply_time_is_the_median_first_answer_in_minutes(tenant_a, site):
    with schema_context(tenant_a.schema_name):
        assert availability.reply_minutes(tenant_id=tenant_a.id) is None
        for index, minutes in enumerate([2, 3.5, 30]):
            conversation_answered_after(site.site.id, minutes, name=f"v{index}")
        conversation_answered_after(site.site.id, None, name="unanswered")
        conversation_answered_after(site.site.id, 1, name="old", ago=60)  # out of the window
        # Cached: the new answers are not seen until the cache lets go.
        assert availability.reply_minutes(tenant_id=tenant_a.id) is None
        clear_all()
        assert availability.reply_minutes(tenant_id=tenant_a.id) == 4  # 3.5 min, rounded up


@pytest.mark.django_db
def test_a_site_out_of_hours_says_when_it_opens(tenant_a, site):
    site_update(
        site=site.site,
        hours_enabled=True,
        time_zone="Europe/Paris",
        weekly_hours={"mon": [{"start": "09:00", "end": "17:00"}]},
        closed_dates=["2026-12-07"],
        away_message="Back on Monday!",
    )
    site_cache_clear()
    info = site_for_key(site.key)
    saturday = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
    with schema_context(tenant_a.schema_name):
        status = availability.site_status(site=info, now=saturday)
    assert status == {
        "agents": "offline",
        "reply_minutes": None,
        "open": False,
        "changes_at": "2026-12-14T08:00:00+00:00",  # 7 December is closed
        "next_opening": "2026-12-14T08:00:00+00:00",
    }
    monday = datetime(2026, 12, 14, 10, 0, tzinfo=UTC)
    with schema_context(tenant_a.schema_name):
        status = availability.site_status(site=info, now=monday)
    assert status["open"] is True
    assert status["changes_at"] == "2026-12-14T16:00:00+00:00"
    assert status["next_opening"] is None


@pytest.mark.django_db
@pytest.mark.usefixtures("platform")
def test_the_session_answer_carries_the_status_and_what_to_do_out_of_hours(site):
    site_update(site=site.site, **ALWAYS_CLOSED, out_of_hours="hide_launcher", away_message="Bye")
    site_cache_clear()
    body = PlatformClient(HTTP_ORIGIN=site.origin).post_json(
        "/api/widget/v1/session", {"site_key": site.key}
    )
    assert body.status_code == 200, body.content
    answer = body.json()["site"]
    assert answer["status"]["open"] is False
    assert answer["status"]["next_opening"] is None  # never opens
    assert answer["out_of_hours"] == "hide_launcher"
    assert answer["away_message"] == "Bye"


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("fresh_sockets")
async def test_ready_has_the_status_and_the_widget_may_ask_again(site, visitor):
    socket = await joined(site, visitor)
    assert socket.ready["availability"]["open"] is True

    @database_sync_to_async
    def close_the_site():
        site_update(site=site.site, **ALWAYS_CLOSED)

    await close_the_site()
    await socket.send_json_to({"type": "status"})
    answer = await expect(socket, of_type("status"))
    assert answer["status"]["open"] is False
    await socket.disconnect()


def test_the_hours_are_reused_until_they_change_and_never_past_it():
    schedule = schedule_parse(time_zone="UTC", weekly={"mon": [{"start": "09:00", "end": "17:00"}]})
    monday = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
    assert availability._hours_at(schedule, monday) == (True, monday.replace(hour=17))
    assert availability._hours_at(schedule, monday.replace(hour=16, minute=59)) == (
        True,
        monday.replace(hour=17),
    )
    evening = monday.replace(hour=17, minute=30)
    assert availability._hours_at(schedule, evening) == (
        False,
        monday + timedelta(days=7, hours=-1),
    )
    # A moment before the one cached is computed afresh, not answered from the cache.
    assert availability._hours_at(schedule, monday)[0] is True
