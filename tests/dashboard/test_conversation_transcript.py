"""The conversation page's "Email the transcript to the visitor" button: shown when the visitor
left an email, confirmed by a flash naming the address; the email itself: widget/mail tests."""

import pytest
from django_tenants.utils import schema_context

from tests.support.factories import visitor_conversation

pytestmark = pytest.mark.django_db


def test_the_button_asks_for_the_transcript(tenant_a, make_member, tenant_client):
    agent = make_member(tenant_a, "ada@alpha.test")
    client = tenant_client(tenant_a, agent)
    known = visitor_conversation(
        tenant_a, room="cv_t1", texts=(("visitor", "Hi"),), email="greta@example.com"
    )
    page = client.get(f"/conversations/{known.pk}/").content.decode()
    assert 'id="send-transcript"' in page
    sent = client.post(f"/conversations/{known.pk}/transcript/", follow=True)
    assert "The transcript is on its way to greta@example.com." in sent.content.decode()
    with schema_context(tenant_a.schema_name):
        known.refresh_from_db()
        assert known.transcript_requested_at is not None

    anonymous = visitor_conversation(tenant_a, room="cv_t2", texts=(("visitor", "Hi"),))
    page = client.get(f"/conversations/{anonymous.pk}/").content.decode()
    assert 'id="send-transcript"' not in page
    assert "The visitor left no email address." in page
    refused = client.post(f"/conversations/{anonymous.pk}/transcript/", follow=True)
    assert "Give an email address to send the transcript to." in refused.content.decode()
