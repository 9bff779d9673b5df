"""Invitations on the team page: the link shown once after an invite or a resend, with a copy
button; pending invitations with their age and sender; a resend replaces the link; an admin
never gets an owner's link."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone
from django_tenants.utils import tenant_context

from accounts.models import Role, User
from accounts.services import invitation_resend, invitation_tokens, member_invite
from core.errors import Forbidden
from tenants.models import AuditEntry
from tests.dashboard.conftest import host_of

pytestmark = pytest.mark.django_db

LINK = re.compile(r"http://alpha\.localhost/invitation/[^/\s\"]+/[^/\s\"]+/")


def shown_link(response) -> str:
    """The link in the page's read-only field (what the Copy button copies)."""
    field = re.search(r'<input[^>]*value="([^"]+)"[^>]*id="invitation-link"', response.text)
    assert field, "no invitation link on the page"
    return field.group(1)


def emailed_link(message) -> str:
    return LINK.search(message.body).group(0)


def accept(tenant, link: str) -> int:
    """Open the link in a fresh browser and choose a password: the status of the last answer."""
    path = link.removeprefix("http://alpha.localhost")
    invitee = Client(HTTP_HOST=host_of(tenant))
    page = invitee.get(path, follow=True)
    if page.status_code != 200:
        return page.status_code
    password = "chosen-passphrase-77"
    response = invitee.post(
        page.redirect_chain[-1][0],
        {"display_name": "Nia", "new_password1": password, "new_password2": password},
    )
    return response.status_code


@pytest.fixture
def invite(tenant_client, django_capture_on_commit_callbacks):
    def post(tenant, actor, email: str, role: str = Role.AGENT):
        with django_capture_on_commit_callbacks(execute=True):
            return tenant_client(tenant, actor).post(
                "/team/invite/", {"email": email, "role": role}
            )

    return post


@pytest.fixture
def resend(tenant_client, django_capture_on_commit_callbacks):
    def post(tenant, actor, member: User, *, follow: bool = False):
        with django_capture_on_commit_callbacks(execute=True):
            return tenant_client(tenant, actor).post(f"/team/{member.pk}/resend/", follow=follow)

    return post


def pending(tenant, email: str) -> User:
    with tenant_context(tenant):
        return User.objects.get(email=email)


def test_the_invite_response_shows_the_emailed_link_once(tenant_a, admin, invite, tenant_client):
    response = invite(tenant_a, admin, "new@alpha.test")
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    link = shown_link(response)
    assert link == emailed_link(mail.outbox[0])
    assert 'data-copy="invitation-link"' in response.text
    # The team page lists the invitation afterwards, never its link.
    page = tenant_client(tenant_a, admin).get("/team/")
    assert 'data-invitation="new@alpha.test"' in page.text
    assert "/invitation/" not in page.text


def test_pending_invitations_show_their_age_and_who_sent_them(
    tenant_a, admin, invite, tenant_client
):
    with tenant_context(tenant_a):
        admin.display_name = "Ada Admin"
        admin.save(update_fields=["display_name"])
    invite(tenant_a, admin, "new@alpha.test")
    with tenant_context(tenant_a):
        User.objects.filter(email="new@alpha.test").update(
            invited_at=timezone.now() - timedelta(hours=5)
        )
    page = tenant_client(tenant_a, admin).get("/team/").text
    row = page[page.index('data-invitation="new@alpha.test"') :].split("</tr>")[0]
    assert "5\xa0hours ago" in row
    assert "Ada Admin" in row
    assert "Link expired" not in row
    # Members and invitations are listed apart.
    members = page[page.index('id="team-table"') : page.index('id="invitation-table"')]
    assert "new@alpha.test" not in members


def test_an_expired_link_is_marked_on_the_team_page(tenant_a, admin, invite, tenant_client):
    invite(tenant_a, admin, "late@alpha.test")
    with tenant_context(tenant_a):
        User.objects.filter(email="late@alpha.test").update(
            invited_at=timezone.now() - timedelta(days=4)
        )
    page = tenant_client(tenant_a, admin).get("/team/").text
    row = page[page.index('data-invitation="late@alpha.test"') :].split("</tr>")[0]
    assert "Link expired" in row


def test_a_resend_emails_a_new_link_and_the_old_one_stops_working(tenant_a, admin, invite, resend):
    first = emailed_link(invite(tenant_a, admin, "new@alpha.test") and mail.outbox[0])
    response = resend(tenant_a, admin, pending(tenant_a, "new@alpha.test"))
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    assert len(mail.outbox) == 2
    assert mail.outbox[1].to == ["new@alpha.test"]
    second = shown_link(response)
    assert second == emailed_link(mail.outbox[1])
    assert second != first
    assert "previous link no longer works" in response.text

    assert accept(tenant_a, first) == 400
    assert accept(tenant_a, second) == 302
    assert pending(tenant_a, "new@alpha.test").is_active
    actions = list(
        AuditEntry.objects.filter(tenant=tenant_a, target="new@alpha.test")
        .order_by("id")
        .values_list("action", "actor_label")
    )
    assert actions == [
        ("member.invited", "admin@alpha.test"),
        ("member.invitation_resent", "admin@alpha.test"),
    ]


def test_inviting_a_pending_email_again_also_replaces_the_link(tenant_a, admin, invite):
    invite(tenant_a, admin, "new@alpha.test")
    second = shown_link(invite(tenant_a, admin, "new@alpha.test"))
    assert accept(tenant_a, emailed_link(mail.outbox[0])) == 400
    assert accept(tenant_a, second) == 302


def test_an_admin_never_gets_an_owners_invitation_link(
    tenant_a, owner, admin, invite, resend, tenant_client, on_plan
):
    on_plan(tenant_a, "pro")  # a third seat
    link = shown_link(invite(tenant_a, owner, "boss@alpha.test", Role.OWNER))
    invitation = pending(tenant_a, "boss@alpha.test")
    mail.outbox.clear()

    refused = resend(tenant_a, admin, invitation, follow=True)
    assert refused.redirect_chain == [("/team/", 302)]
    assert "Only an owner may resend" in refused.text
    # Nor by inviting the same email as an admin, which would rewrite the role and send a link.
    again = invite(tenant_a, admin, "boss@alpha.test", Role.ADMIN)
    assert again.status_code == 400
    for response in (refused, again):
        assert "/invitation/" not in response.text
    assert mail.outbox == []
    page = tenant_client(tenant_a, admin).get("/team/").text
    row = page[page.index('data-invitation="boss@alpha.test"') :].split("</tr>")[0]
    assert "Resend" not in row
    assert pending(tenant_a, "boss@alpha.test").role == Role.OWNER
    assert accept(tenant_a, link) == 302  # the owner's link still works


def test_an_owner_resends_an_owners_invitation(tenant_a, owner, invite, resend):
    invite(tenant_a, owner, "boss@alpha.test", Role.OWNER)
    response = resend(tenant_a, owner, pending(tenant_a, "boss@alpha.test"))
    assert response.status_code == 200
    assert LINK.fullmatch(shown_link(response))


def test_resending_to_an_active_member_is_refused(tenant_a, admin, agent, resend):
    response = resend(tenant_a, admin, agent, follow=True)
    assert response.redirect_chain == [("/team/", 302)]
    assert "already joined" in response.text
    assert "/invitation/" not in response.text
    assert mail.outbox == []


def test_an_agent_may_not_resend(tenant_a, admin, agent, invite, resend, on_plan):
    on_plan(tenant_a, "pro")
    invite(tenant_a, admin, "new@alpha.test")
    mail.outbox.clear()
    response = resend(tenant_a, agent, pending(tenant_a, "new@alpha.test"))
    assert response.status_code == 403
    assert mail.outbox == []


def test_another_tenants_invitation_cannot_be_resent(
    tenant_a, tenant_b, admin, make_member, resend
):
    other = make_member(tenant_b, "pending@beta.test", Role.AGENT, active=False)
    response = resend(tenant_a, admin, other, follow=True)
    # The pk names a row of alpha's own schema, if any: beta's invitation is out of reach.
    assert "pending@beta.test" not in response.text
    assert "beta.localhost" not in response.text
    assert all(message.to != ["pending@beta.test"] for message in mail.outbox)
    with tenant_context(tenant_b):
        assert User.objects.get(pk=other.pk).invited_at is None


def test_invitation_resend_keeps_the_sender_and_refuses_an_admin_an_owners_link(
    tenant_a, owner, admin, on_plan
):
    on_plan(tenant_a, "pro")
    with tenant_context(tenant_a):
        first = member_invite(
            tenant=tenant_a, inviter=owner, email="boss@alpha.test", role=Role.OWNER,
            dashboard_url="http://alpha.localhost/",
        )  # fmt: skip
        with pytest.raises(Forbidden):
            invitation_resend(
                tenant=tenant_a, actor=admin, member=first.member,
                dashboard_url="http://alpha.localhost/",
            )  # fmt: skip
        again = invitation_resend(
            tenant=tenant_a, actor=owner, member=first.member,
            dashboard_url="http://alpha.localhost/",
        )  # fmt: skip
        member = User.objects.get(pk=first.member.pk)
        assert member.invited_by == owner
        assert member.invited_at >= first.member.invited_at
        assert again.link != first.link
        assert not invitation_tokens.check_token(member, first.link.split("/")[-2])
        assert invitation_tokens.check_token(member, again.link.split("/")[-2])
