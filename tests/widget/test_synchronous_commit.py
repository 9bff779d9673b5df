"""`PARLEY_MESSAGES_SYNCHRONOUS_COMMIT`: on (the default), a message's commit waits for the
disk; off, the message's own transaction, and only it, commits with `synchronous_commit = off`.
What PostgreSQL does with that setting is PostgreSQL's; these check what Parley asks of it."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from widget.models import Conversation
from widget.services.messages import message_post

pytestmark = pytest.mark.django_db(transaction=True)

SET_OFF = "SET LOCAL synchronous_commit = off"


def post(tenant, text: str) -> list[str]:
    """Post a message; the statements its transaction ran, in order."""
    with schema_context(tenant.schema_name):
        conversation, _ = Conversation.objects.get_or_create(room="cv_commit", site_id=1)
        with CaptureQueriesContext(connection) as queries:
            message_post(
                tenant_id=tenant.id,
                conversation=conversation,
                text=text,
                author_kind="visitor",
                author_id="v1",
            )
    return [query["sql"] for query in queries.captured_queries]


def synchronous_commit() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        return cursor.fetchone()[0]


def test_by_default_a_message_commit_waits_for_the_disk(tenant_a):
    statements = post(tenant_a, "durable")
    assert SET_OFF not in statements
    assert any(sql.startswith("INSERT") for sql in statements)
    assert synchronous_commit() == "on"


def test_off_only_the_message_transaction_skips_the_flush(tenant_a, settings):
    settings.MESSAGES_SYNCHRONOUS_COMMIT = False
    statements = post(tenant_a, "fast")
    inserts = [i for i, sql in enumerate(statements) if sql.startswith("INSERT")]
    assert SET_OFF in statements
    assert inserts
    assert statements.index(SET_OFF) < inserts[0]  # in the message's transaction, before it
    assert synchronous_commit() == "on"  # SET LOCAL: the connection's other work is untouched
    with schema_context(tenant_a.schema_name):
        assert Conversation.objects.get(room="cv_commit").messages.get().text == "fast"
