"""`manage.py seed_inbox` at a small scale: what it makes, the inbox pages and counts."""

import pytest
from django.core.management import call_command
from django_tenants.utils import schema_context

from widget.inbox import PAGE_SIZE, InboxFilter, inbox_counts, inbox_page
from widget.models import Conversation, Message

pytestmark = pytest.mark.django_db


def test_a_seeded_inbox_pages_and_counts(tenant_a):
    call_command("seed_inbox", tenant="alpha", conversations=120, messages=480)
    with schema_context(tenant_a.schema_name):
        assert Conversation.objects.filter(room__startswith="cv_seed").count() == 120
        assert Message.objects.count() == 480
        seen, cursor = [], None
        while True:
            page = inbox_page(InboxFilter(view=None), cursor=cursor)
            assert len(page.conversations) <= PAGE_SIZE
            seen += [conversation.pk for conversation in page.conversations]
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
        assert len(seen) == len(set(seen)) == 120
        counts = inbox_counts(user_id=0)
        unread_open = Conversation.objects.filter(
            status="open", snoozed_until__isnull=True, agent_read_up_to=0
        ).count()
        assert counts["open"] == unread_open > 0
        assert (
            counts["closed"]
            == Conversation.objects.filter(status="closed", agent_read_up_to=0).count()
        )
