"""The tenant's audit log (owners and admins, in the dashboard and through the site-key API) and
the account page (owners): export everything, or close the account for good."""

import io
import zipfile

import pytest
from django.core.cache import cache
from django_tenants.utils import schema_exists

from core.actors import Actor, acting_as
from tenants.models import Site, Tenant
from tenants.services import api_key_create, public_tenant_ensure, site_create, tenant_suspend
from tests.support.api_clients import site_api_client

pytestmark = pytest.mark.django_db

SITE = {"name": "Shop", "allowed_origins": "https://shop.example", "color": "#112233"}
SITE |= {"greeting": "Hello", "position": "right", "locale": "en"}


def test_sensitive_changes_are_in_the_audit_log_with_who_and_from_where(
    tenant_a, tenant_b, owner, admin, agent, tenant_client, on_plan
):
    on_plan(tenant_a, "pro")  # room for one more member than the free plan's two
    client = tenant_client(tenant_a, admin, REMOTE_ADDR="203.0.113.77")
    assert client.post("/sites/new/", SITE).status_code == 302
    site = Site.objects.get(tenant=tenant_a)
    client.post(f"/sites/{site.pk}/rotate-key/")
    client.post("/api-keys/", {"name": "deploy"})
    client.post("/team/invite/", {"email": "new@alpha.test", "role": "agent"})
    site_create(tenant=tenant_b, name="Beta shop", allowed_origins=["https://beta.example"])
    with acting_as(Actor("command", "manage.py tenants suspend (by root)")):
        tenant_suspend(tenant=tenant_a, reason="")

    page = tenant_client(tenant_a, owner).get("/audit/")
    assert page.status_code == 200
    text = page.content.decode()
    for action in ("site.created", "site.key_rotated", "api_key.created", "member.invited"):
        assert action in text
    assert "admin@alpha.test" in text
    assert "203.0.113.77" in text
    assert "Beta shop" not in text  # another tenant's changes
    assert "tenant.suspended" in text
    assert "the installation&#x27;s operator" in text
    assert "by root" not in text  # which operator, and from where, stays the installation's
    assert tenant_client(tenant_a, agent).get("/audit/").status_code == 403


def test_the_audit_log_reads_through_the_site_key_api_newest_first(tenant_a, tenant_b):
    public_tenant_ensure()
    cache.clear()
    _, key = api_key_create(tenant=tenant_a, name="ci")
    site_create(tenant=tenant_a, name="A", allowed_origins=["https://a.example"])
    site_create(tenant=tenant_b, name="B", allowed_origins=["https://b.example"])
    answer = site_api_client(key).get("/api/v1/audit?limit=1")
    assert answer.status_code == 200
    body = answer.json()
    assert [entry["action"] for entry in body["data"]] == ["site.created"]
    assert body["data"][0]["target"].endswith("(A)")
    second = site_api_client(key).get(f"/api/v1/audit?limit=5&cursor={body['next']}").json()
    assert [entry["action"] for entry in second["data"]] == ["api_key.created"]
    assert second["next"] is None


def test_an_owner_exports_everything_and_only_an_owner(tenant_a, owner, admin, tenant_client):
    assert tenant_client(tenant_a, admin).get("/account/").status_code == 403
    export = tenant_client(tenant_a, owner).post("/account/export/")
    assert export.status_code == 200
    with zipfile.ZipFile(io.BytesIO(b"".join(export.streaming_content))) as archive:
        users = archive.read("users.jsonl").decode()
    assert "owner@alpha.test" in users
    assert "admin@alpha.test" in users
    assert "pbkdf2" not in users
    assert "md5" not in users


@pytest.mark.django_db(transaction=True)
def test_closing_the_account_asks_for_the_name_then_deletes_everything(
    make_tenant, make_member, tenant_client
):
    tenant = make_tenant("closing", "Closing Co")
    owner = make_member(tenant, "owner@closing.test", "owner")
    client = tenant_client(tenant, owner)
    refused = client.post("/account/close/", {"confirm": "closing"})
    assert refused.status_code == 400
    assert schema_exists(tenant.schema_name)
    closed = client.post("/account/close/", {"confirm": "Closing Co"})
    assert closed.status_code == 302
    assert closed["Location"].endswith("/?closed=1")
    assert not Tenant.objects.filter(slug="closing").exists()
    assert not schema_exists(tenant.schema_name)


def test_a_suspended_tenants_dashboard_says_why_and_stays_readable(tenant_a, owner, tenant_client):
    from tenants import status

    tenant_suspend(tenant=tenant_a, reason="abuse report #12")
    status.status_forget(tenant_a.pk)  # the suspension's commit hook, in this test's transaction
    client = tenant_client(tenant_a, owner)
    page = client.get("/")
    assert page.status_code == 200
    assert "This account is suspended" in page.content.decode()
    assert "abuse report #12" in page.content.decode()
    assert client.get("/sites/").status_code == 200
    refused = client.post("/sites/new/", SITE)
    assert refused.status_code == 403
    assert "Nothing can be changed while the account is suspended" in refused.content.decode()
    assert not Site.objects.filter(tenant=tenant_a).exists()
