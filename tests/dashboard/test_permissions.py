"""Roles: agents use the inbox only; admins also sites, team (not owners) and API keys; owners all.

Every refused action is checked twice: the answer (403) and the state (nothing changed).
"""

import pytest
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.test import RequestFactory
from django_tenants.utils import tenant_context

from accounts.models import Role, User
from accounts.roles import Capability, user_can
from dashboard.permissions import requires
from tenants.models import ApiKey, Site
from tenants.services import api_key_create, site_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def site(tenant_a) -> Site:
    return site_create(tenant=tenant_a, name="Shop", allowed_origins=["https://shop.example"])


def test_an_agent_can_use_the_inbox_but_not_manage_pages(tenant_a, agent, tenant_client):
    client = tenant_client(tenant_a, agent)
    page = client.get("/")
    assert page.status_code == 200
    body = page.content.decode()
    for entry in ("nav-sites", "nav-team", "nav-api-keys", "nav-billing"):
        assert entry not in body
    for path in ("/sites/", "/sites/new/", "/team/", "/api-keys/"):
        assert client.get(path).status_code == 403, path


def test_an_agent_cannot_change_sites(tenant_a, agent, tenant_client, site):
    client = tenant_client(tenant_a, agent)
    key_before = list(site.keys.values_list("key", flat=True))
    secret_before = site.identity_secret

    assert client.get(f"/sites/{site.pk}/").status_code == 403
    created = client.post("/sites/new/", {"name": "Mine", "allowed_origins": "https://a.example"})
    assert created.status_code == 403
    edited = client.post(
        f"/sites/{site.pk}/", {"name": "Hacked", "allowed_origins": "https://evil.example"}
    )
    assert edited.status_code == 403
    assert client.post(f"/sites/{site.pk}/rotate-key/").status_code == 403
    assert client.post(f"/sites/{site.pk}/identity-secret/").status_code == 403

    site.refresh_from_db()
    assert site.name == "Shop"
    assert site.allowed_origins == ["https://shop.example"]
    assert site.identity_secret == secret_before
    assert list(site.keys.values_list("key", flat=True)) == key_before
    assert Site.objects.filter(tenant=tenant_a).count() == 1


def test_an_agent_cannot_manage_api_keys(tenant_a, agent, tenant_client):
    row, _ = api_key_create(tenant=tenant_a, name="crm")
    client = tenant_client(tenant_a, agent)
    assert client.post("/api-keys/", {"name": "mine"}).status_code == 403
    assert client.post(f"/api-keys/{row.pk}/revoke/").status_code == 403
    assert ApiKey.objects.filter(tenant=tenant_a).count() == 1
    row.refresh_from_db()
    assert row.revoked_at is None


def test_an_agent_cannot_manage_the_team(tenant_a, agent, admin, tenant_client):
    client = tenant_client(tenant_a, agent)
    invited = client.post("/team/invite/", {"email": "friend@alpha.test", "role": "admin"})
    assert invited.status_code == 403
    assert client.post(f"/team/{agent.pk}/role/", {"role": "owner"}).status_code == 403
    assert client.post(f"/team/{admin.pk}/remove/").status_code == 403
    with tenant_context(tenant_a):
        assert not User.objects.filter(email="friend@alpha.test").exists()
        assert User.objects.get(pk=agent.pk).role == Role.AGENT
        assert User.objects.filter(pk=admin.pk).exists()


def test_only_owners_may_use_billing(tenant_a, owner, admin, agent, tenant_client):
    assert [user_can(member, Capability.BILLING) for member in (owner, admin, agent)] == [
        True,
        False,
        False,
    ]
    assert "nav-billing" in tenant_client(tenant_a, owner).get("/").content.decode()
    assert "nav-billing" not in tenant_client(tenant_a, admin).get("/").content.decode()

    # What a billing page guarded with the dashboard's decorator answers to each role.
    @requires(Capability.BILLING)
    def billing_page(request):
        return HttpResponse("plan and usage")

    def visit(member):
        request = RequestFactory().get("/billing/")
        request.user = member
        return billing_page(request)

    assert visit(owner).status_code == 200
    for refused in (admin, agent):
        with pytest.raises(PermissionDenied):  # Django answers it with 403
            visit(refused)


def test_an_admin_manages_sites_keys_and_team_pages(tenant_a, admin, tenant_client, site):
    client = tenant_client(tenant_a, admin)
    for path in ("/", "/sites/", "/sites/new/", f"/sites/{site.pk}/", "/team/", "/api-keys/"):
        assert client.get(path).status_code == 200, path


def test_an_admin_cannot_demote_or_remove_an_owner(tenant_a, owner, admin, tenant_client):
    client = tenant_client(tenant_a, admin)
    response = client.post(f"/team/{owner.pk}/role/", {"role": "agent"}, follow=True)
    assert "Only an owner may change an owner" in response.content.decode()
    response = client.post(f"/team/{owner.pk}/remove/", follow=True)
    assert "Only an owner may remove an owner" in response.content.decode()
    response = client.post(f"/team/{admin.pk}/role/", {"role": "owner"}, follow=True)
    assert "Only an owner may" in response.content.decode()
    with tenant_context(tenant_a):
        assert User.objects.get(pk=owner.pk).role == Role.OWNER
        assert User.objects.get(pk=admin.pk).role == Role.ADMIN


def test_an_admin_cannot_invite_an_owner(tenant_a, admin, tenant_client):
    response = tenant_client(tenant_a, admin).post(
        "/team/invite/", {"email": "boss@alpha.test", "role": "owner"}
    )
    assert response.status_code == 400
    with tenant_context(tenant_a):
        assert not User.objects.filter(email="boss@alpha.test").exists()


def test_the_last_owner_cannot_be_removed_or_demoted(tenant_a, owner, make_member, tenant_client):
    second = make_member(tenant_a, "second@alpha.test", Role.OWNER)
    client = tenant_client(tenant_a, second)
    # With two owners, one may demote the other...
    client.post(f"/team/{owner.pk}/role/", {"role": "admin"})
    with tenant_context(tenant_a):
        assert User.objects.get(pk=owner.pk).role == Role.ADMIN
    # ...but the last owner cannot be demoted or removed, not even by themselves.
    response = client.post(f"/team/{second.pk}/role/", {"role": "admin"}, follow=True)
    assert "at least one owner" in response.content.decode()
    response = client.post(f"/team/{second.pk}/remove/", follow=True)
    assert "cannot remove yourself" in response.content.decode()
    with tenant_context(tenant_a):
        assert User.objects.get(pk=second.pk).role == Role.OWNER


def test_a_member_cannot_reach_another_tenants_objects(
    tenant_a, tenant_b, make_member, tenant_client
):
    beta_site = site_create(tenant=tenant_b, name="Beta", allowed_origins=["https://b.example"])
    beta_key, _ = api_key_create(tenant=tenant_b, name="beta")
    alpha_owner = make_member(tenant_a, "owner@alpha.test", Role.OWNER)
    client = tenant_client(tenant_a, alpha_owner)

    assert client.get(f"/sites/{beta_site.pk}/").status_code == 404
    assert client.post(f"/sites/{beta_site.pk}/rotate-key/").status_code == 404
    assert client.post(f"/api-keys/{beta_key.pk}/revoke/").status_code == 404
    assert "Beta" not in client.get("/sites/").content.decode()
    beta_key.refresh_from_db()
    assert beta_key.revoked_at is None
    assert beta_site.keys.count() == 1
