"""The plan's limits in the dashboard: a site, an invitation or a reply past the plan is refused
with the plan's message on the page, and nothing is created. The tenant is on the free plan (1
site, 2 dashboard users, pending invitations included, 1,000 messages a month)."""

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context

from accounts.models import User
from tenants.billing.models import MonthlyUsage
from tenants.billing.plans import FREE
from tenants.billing.usage import month_of
from tenants.models import Site
from widget.models import Conversation, Visitor

pytestmark = pytest.mark.django_db

SITE = {"name": "Shop", "allowed_origins": "https://shop.example", "color": "#112233"}
SITE |= {"greeting": "Hello", "position": "right", "locale": "en"}


def test_a_site_past_the_plan_is_refused_on_the_form(tenant_a, admin, tenant_client, on_plan):
    client = tenant_client(tenant_a, admin)
    assert client.post("/sites/new/", SITE).status_code == 302

    refused = client.post("/sites/new/", SITE | {"name": "Blog"})
    assert refused.status_code == 400
    assert "The Free plan allows 1 site(s); upgrade for more." in refused.content.decode()
    assert list(Site.objects.filter(tenant=tenant_a).values_list("name", flat=True)) == ["Shop"]

    on_plan(tenant_a, "pro")
    assert client.post("/sites/new/", SITE | {"name": "Blog"}).status_code == 302


def test_an_invitation_past_the_plan_is_refused_on_the_form(tenant_a, admin, tenant_client):
    client = tenant_client(tenant_a, admin)
    invite = {"email": "first@alpha.test", "role": "agent"}
    assert client.post("/team/invite/", invite).status_code == 200  # the second seat

    refused = client.post("/team/invite/", {"email": "second@alpha.test", "role": "agent"})
    assert refused.status_code == 400
    assert "The Free plan allows 2 agent(s); upgrade for more." in refused.content.decode()
    with tenant_context(tenant_a):
        assert not User.objects.filter(email="second@alpha.test").exists()
    # A pending invitation already holds its seat: sending it again is no new seat.
    assert client.post("/team/invite/", invite).status_code == 200
    with tenant_context(tenant_a):
        assert User.objects.count() == 2


def test_a_reply_past_the_months_messages_shows_the_plan_limit(tenant_a, agent, tenant_client):
    MonthlyUsage.objects.create(
        tenant=tenant_a, month=month_of(timezone.now()), messages=FREE.messages_per_month
    )
    with tenant_context(tenant_a):
        visitor = Visitor.objects.create(site_id=1, name="Vera")
        conversation = Conversation.objects.create(room="cv_vera", site_id=1, visitor=visitor)
    client = tenant_client(tenant_a, agent)

    reply = {"text": "Yes, over $50.", "client_id": "6a1e0c1e-0000-4000-8000-000000000002"}
    page = client.post(f"/conversations/{conversation.pk}/reply/", reply, follow=True)
    assert page.status_code == 200
    assert "The Free plan allows 1,000 messages a month; upgrade for more." in page.content.decode()
    with tenant_context(tenant_a):
        assert not conversation.messages.exists()


@pytest.mark.parametrize(
    ("used", "says"),
    [
        (799, None),
        (850, "Your team has used 85% of the Free plan's 1000 messages this month."),
        (1000, "Your team has used all 1000 messages of the Free plan this month"),
    ],
)
def test_the_owner_is_told_from_80_percent_of_the_months_messages(
    tenant_a, owner, agent, tenant_client, used, says
):
    MonthlyUsage.objects.create(tenant=tenant_a, month=month_of(timezone.now()), messages=used)
    from tenants.billing import process_counters

    process_counters.messages._written.clear()  # read this test's total from the database
    page = tenant_client(tenant_a, owner).get("/").content.decode()
    assert (says in page) if says else ('id="messages-notice"' not in page)
    assert 'id="messages-notice"' not in tenant_client(tenant_a, agent).get("/").content.decode()


def test_with_billing_the_owners_notice_offers_the_upgrade(tenant_a, owner, tenant_client, on_plan):
    on_plan(tenant_a, "free")  # billing configured, no paid subscription
    MonthlyUsage.objects.create(tenant=tenant_a, month=month_of(timezone.now()), messages=900)
    from tenants.billing import process_counters

    process_counters.messages._written.clear()
    page = tenant_client(tenant_a, owner).get("/").content.decode()
    notice = page[page.index('id="messages-notice"') :]
    assert "90% of the Free plan" in notice[:400]
    assert 'href="/billing/">Upgrade for more' in notice[:600]
