"""The plan's limits through the site-key API: a site or a message past the plan answers 402
`plan_limit` and creates nothing. The tenants are on the free plan (1 site, 1,000 messages a
month); a used-up month is set up as the billing tables record it."""

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from tenants.billing.limits import flush_usage
from tenants.billing.models import MonthlyUsage
from tenants.billing.plans import FREE
from tenants.billing.usage import month_of
from tenants.models import Site
from tests.support.api_clients import error_code
from widget.models import Conversation, Message, Visitor

pytestmark = pytest.mark.django_db

SITE = {"name": "Shop", "allowed_origins": ["https://shop.example"]}


def test_a_site_past_the_plan_answers_402_and_is_not_created(api_a, api_b, tenant_a, on_plan):
    assert api_a.post_json("/api/v1/sites", SITE).status_code == 201

    refused = api_a.post_json("/api/v1/sites", SITE | {"name": "Blog"})
    assert refused.status_code == 402
    assert error_code(refused) == "plan_limit"
    assert "1 site" in refused.json()["error"]["message"]
    assert Site.objects.filter(tenant=tenant_a).count() == 1
    # Another tenant's sites are its own.
    assert api_b.post_json("/api/v1/sites", SITE).status_code == 201

    on_plan(tenant_a, "pro")
    assert api_a.post_json("/api/v1/sites", SITE | {"name": "Blog"}).status_code == 201


def test_the_402_is_in_the_openapi_document(api_a):
    paths = api_a.get("/api/v1/openapi.json").json()["paths"]
    assert "402" in paths["/api/v1/sites"]["post"]["responses"]
    assert "402" in paths["/api/v1/conversations/{conversation_id}/messages"]["post"]["responses"]


@pytest.fixture
def conversation(api_a, tenant_a):
    site_id = api_a.post_json("/api/v1/sites", SITE).json()["id"]
    with schema_context(tenant_a.schema_name):
        visitor = Visitor.objects.create(site_id=site_id)
        return Conversation.objects.create(room="cv_api", site_id=site_id, visitor=visitor)


def messages_of(tenant, conversation) -> list[str]:
    with schema_context(tenant.schema_name):
        return list(
            Message.objects.filter(conversation=conversation).values_list("text", flat=True)
        )


def test_a_message_past_the_month_answers_402_and_is_not_stored(api_a, tenant_a, conversation):
    month = month_of(timezone.now())
    MonthlyUsage.objects.create(tenant=tenant_a, month=month, messages=FREE.messages_per_month - 1)
    path = f"/api/v1/conversations/{conversation.pk}/messages"

    sent = api_a.post_json(path, {"text": "the last one", "client_id": "b-1"})
    assert sent.status_code == 201
    refused = api_a.post_json(path, {"text": "one too many", "client_id": "b-2"})
    assert refused.status_code == 402
    assert error_code(refused) == "plan_limit"
    # A resend of a stored message is answered as before, not refused.
    assert api_a.post_json(path, {"text": "the last one", "client_id": "b-1"}).status_code == 200

    assert messages_of(tenant_a, conversation) == ["the last one"]
    flush_usage()
    assert MonthlyUsage.objects.get(tenant=tenant_a, month=month).messages == 1000
