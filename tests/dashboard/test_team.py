"""The team: invitations by email with a one-time link, roles, removal; and API keys."""

import re

import pytest
from django.core import mail
from django.test import Client
from django_tenants.utils import tenant_context

from accounts.models import Role, User
from tenants.keys import api_key_digest
from tenants.models import ApiKey
from tests.dashboard.conftest import host_of

pytestmark = pytest.mark.django_db


def invitation_path(email_body: str) -> str:
    return re.search(r"http://alpha\.localhost(/invitation/\S+/)", email_body).group(1)


def test_an_invited_agent_joins_with_a_password_of_their_choice(
    tenant_a, admin, tenant_client, django_capture_on_commit_callbacks
):
    client = tenant_client(tenant_a, admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/team/invite/", {"email": "New@Alpha.test", "role": "agent"})
    assert response.status_code == 200  # the page with the link to copy
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["new@alpha.test"]
    path = invitation_path(mail.outbox[0].body)
    assert "Invited" in client.get("/team/").content.decode()

    invitee = Client(HTTP_HOST=host_of(tenant_a))
    page = invitee.get(path, follow=True)
    assert "Join Alpha Inc" in page.content.decode()
    form_url = page.redirect_chain[-1][0]
    assert form_url.endswith("/accept/")  # the token left the address bar
    password = "my-own-passphrase-99"
    response = invitee.post(
        form_url, {"display_name": "Nia", "new_password1": password, "new_password2": password}
    )
    assert response.status_code == 302
    assert invitee.get("/").status_code == 200  # signed in
    with tenant_context(tenant_a):
        member = User.objects.get(email="new@alpha.test")
        assert member.is_active
        assert member.role == Role.AGENT
        assert member.display_name == "Nia"
        assert member.check_password(password)

    # The link works once.
    assert Client(HTTP_HOST=host_of(tenant_a)).get(path, follow=True).status_code == 400


def test_an_invitation_link_does_not_work_on_another_tenants_host(
    tenant_a, tenant_b, admin, tenant_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        tenant_client(tenant_a, admin).post(
            "/team/invite/", {"email": "x@alpha.test", "role": "agent"}
        )
    path = invitation_path(mail.outbox[0].body)
    assert Client(HTTP_HOST=host_of(tenant_b)).get(path, follow=True).status_code == 400


def test_inviting_a_current_member_is_refused(tenant_a, admin, agent, tenant_client):
    response = tenant_client(tenant_a, admin).post(
        "/team/invite/", {"email": agent.email, "role": "admin"}
    )
    assert response.status_code == 400
    assert "already a member" in response.content.decode()
    with tenant_context(tenant_a):
        assert User.objects.get(pk=agent.pk).role == Role.AGENT


def test_an_admin_changes_an_agents_role_and_removes_them(tenant_a, admin, agent, tenant_client):
    client = tenant_client(tenant_a, admin)
    client.post(f"/team/{agent.pk}/role/", {"role": "admin"})
    with tenant_context(tenant_a):
        assert User.objects.get(pk=agent.pk).role == Role.ADMIN
    client.post(f"/team/{agent.pk}/remove/")
    with tenant_context(tenant_a):
        assert not User.objects.filter(pk=agent.pk).exists()


def test_an_owner_can_make_another_owner(tenant_a, owner, admin, tenant_client):
    tenant_client(tenant_a, owner).post(f"/team/{admin.pk}/role/", {"role": "owner"})
    with tenant_context(tenant_a):
        assert User.objects.get(pk=admin.pk).role == Role.OWNER


def test_an_api_key_is_shown_once_listed_by_prefix_and_revoked(tenant_a, admin, tenant_client):
    client = tenant_client(tenant_a, admin)
    response = client.post("/api-keys/", {"name": "CRM sync"})
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    key = re.search(r'value="(sk_[^"]+)"', response.content.decode()).group(1)
    row = ApiKey.objects.get(tenant=tenant_a)
    assert row.key_hash == api_key_digest(key)

    listing = client.get("/api-keys/").content.decode()
    assert key not in listing
    assert f"{row.prefix}…" in listing
    assert "CRM sync" in listing
    assert "Never" in listing  # last used

    client.post(f"/api-keys/{row.pk}/revoke/")
    row.refresh_from_db()
    assert row.revoked_at is not None
    assert "Revoked" in client.get("/api-keys/").content.decode()
