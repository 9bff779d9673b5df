"""`manage.py prune_history`: each tenant's messages older than its plan's history are deleted,
newer ones and other tenants' (on a longer plan) are kept."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_tenants.utils import schema_context

from widget.models import Conversation, Message, Visitor

pytestmark = pytest.mark.django_db


def messages_aged(tenant, ages_in_days: list[int]) -> None:
    with schema_context(tenant.schema_name):
        visitor = Visitor.objects.create(site_id=1)
        conversation = Conversation.objects.create(room="cv_old", site_id=1, visitor=visitor)
        for age in ages_in_days:
            message = Message.objects.create(
                conversation=conversation, author_kind="visitor", text=f"{age} days old"
            )
            Message.objects.filter(pk=message.pk).update(
                created_at=timezone.now() - timedelta(days=age)
            )


def texts(tenant) -> list[str]:
    with schema_context(tenant.schema_name):
        return list(Message.objects.order_by("id").values_list("text", flat=True))


def test_messages_older_than_the_plans_history_are_deleted(tenant_a, tenant_b, on_plan):
    on_plan(tenant_b, "pro")  # 365 days; tenant_a is on the free plan (30 days)
    messages_aged(tenant_a, [400, 31, 29, 0])
    messages_aged(tenant_b, [400, 31, 29, 0])
    output = StringIO()

    call_command("prune_history", stdout=output)

    assert texts(tenant_a) == ["29 days old", "0 days old"]
    assert texts(tenant_b) == ["31 days old", "29 days old", "0 days old"]
    assert "3 message(s) deleted." in output.getvalue()
    with schema_context(tenant_a.schema_name):
        assert Conversation.objects.filter(room="cv_old").exists()  # the conversation stays
