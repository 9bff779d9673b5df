"""The plan's limits in the dashboard: a site or an invitation past the plan is refused with a
clear error on the form, and nothing is created. The tenant is on the free plan (1 site, 2
dashboard users, pending invitations included)."""

import pytest
from django_tenants.utils import tenant_context

from accounts.models import User
from tenants.models import Site

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
    assert client.post("/team/invite/", invite).status_code == 302  # the second seat

    refused = client.post("/team/invite/", {"email": "second@alpha.test", "role": "agent"})
    assert refused.status_code == 400
    assert "The Free plan allows 2 agent(s); upgrade for more." in refused.content.decode()
    with tenant_context(tenant_a):
        assert not User.objects.filter(email="second@alpha.test").exists()
    # A pending invitation already holds its seat: sending it again is no new seat.
    assert client.post("/team/invite/", invite).status_code == 302
    with tenant_context(tenant_a):
        assert User.objects.count() == 2
