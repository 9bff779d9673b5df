"""Signing in and out, login throttling, password reset by email, and tenant isolation."""

import re

import pytest
from django.core import mail
from django.test import Client
from django_tenants.utils import tenant_context

from accounts.models import Role, User
from tests.dashboard.conftest import PASSWORD, host_of

pytestmark = pytest.mark.django_db


def log_in(client: Client, email: str, password: str = PASSWORD):
    return client.post("/login/", {"username": email, "password": password})


def test_a_member_logs_in_and_out(tenant_a, owner):
    client = Client(HTTP_HOST=host_of(tenant_a))
    assert client.get("/").status_code == 302  # the inbox needs a sign-in

    response = log_in(client, "OWNER@alpha.test")  # emails are not case-sensitive
    assert response.status_code == 302
    assert client.get("/").status_code == 200

    assert client.post("/logout/").status_code == 302
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_a_wrong_password_is_refused(tenant_a, owner):
    client = Client(HTTP_HOST=host_of(tenant_a))
    response = log_in(client, owner.email, "not-the-password")
    assert response.status_code == 200
    assert "Please enter a correct email and password" in response.content.decode()
    assert client.get("/").status_code == 302


def test_failed_logins_are_throttled_per_address_and_email(tenant_a, owner, settings):
    settings.LOGIN_FAILURE_LIMIT = (3, 900)
    client = Client(HTTP_HOST=host_of(tenant_a), REMOTE_ADDR="203.0.113.5")
    for _ in range(3):
        log_in(client, owner.email, "wrong-guess")

    # Even the right password is refused while the email is throttled from this address.
    response = log_in(client, owner.email)
    assert "Too many failed sign-in attempts for this email" in response.content.decode()
    assert "Try again in 15 minutes" in response.content.decode()
    assert client.get("/").status_code == 302

    # From another address, the owner signs in.
    other = Client(HTTP_HOST=host_of(tenant_a), REMOTE_ADDR="198.51.100.20")
    assert log_in(other, owner.email).status_code == 302


def test_a_successful_login_clears_the_failures(tenant_a, owner, settings):
    settings.LOGIN_FAILURE_LIMIT = (3, 900)
    client = Client(HTTP_HOST=host_of(tenant_a))
    log_in(client, owner.email, "wrong-guess")
    log_in(client, owner.email, "wrong-guess")
    assert log_in(client, owner.email).status_code == 302
    client.post("/logout/")
    log_in(client, owner.email, "wrong-guess")
    log_in(client, owner.email, "wrong-guess")
    assert log_in(client, owner.email).status_code == 302


def test_password_reset_by_email_works_once(tenant_a, owner):
    client = Client(HTTP_HOST=host_of(tenant_a))
    response = client.post("/password-reset/", {"email": owner.email})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.to == [owner.email]
    link = re.search(r"http://alpha\.localhost(/reset/\S+/)", email.body).group(1)

    set_password_page = client.get(link, follow=True)
    assert "Choose a new password" in set_password_page.content.decode()
    new_password = "a-brand-new-passphrase-7"
    response = client.post(
        set_password_page.redirect_chain[-1][0],
        {"new_password1": new_password, "new_password2": new_password},
    )
    assert response.status_code == 302
    assert response["Location"] == "/reset/done/"
    with tenant_context(tenant_a):
        assert User.objects.get(pk=owner.pk).check_password(new_password)

    again = Client(HTTP_HOST=host_of(tenant_a)).get(link, follow=True)
    assert "This link no longer works" in again.content.decode()
    assert log_in(Client(HTTP_HOST=host_of(tenant_a)), owner.email, new_password).status_code == 302


def test_password_reset_tells_nothing_about_unknown_emails(tenant_a, owner):
    client = Client(HTTP_HOST=host_of(tenant_a))
    response = client.post("/password-reset/", {"email": "nobody@alpha.test"})
    assert response.status_code == 302
    assert response["Location"] == "/password-reset/sent/"
    assert mail.outbox == []


def test_password_reset_requests_are_rate_limited(tenant_a, owner, settings):
    settings.PASSWORD_RESET_RATE_LIMIT = (2, 3600)
    client = Client(HTTP_HOST=host_of(tenant_a))
    for _ in range(2):
        assert client.post("/password-reset/", {"email": owner.email}).status_code == 302
    response = client.post("/password-reset/", {"email": owner.email})
    assert response.status_code == 429
    assert len(mail.outbox) == 2


def test_a_member_of_one_tenant_cannot_log_in_to_another(tenant_a, tenant_b, owner):
    beta = Client(HTTP_HOST=host_of(tenant_b))
    response = log_in(beta, owner.email)
    assert response.status_code == 200
    assert "Please enter a correct email and password" in response.content.decode()
    assert beta.get("/").status_code == 302


def test_a_session_of_one_tenant_is_not_valid_on_another_tenants_host(
    tenant_a, tenant_b, owner, make_member, tenant_client
):
    # Beta has members of its own: a session made on alpha must still not sign anyone in there.
    make_member(tenant_b, "owner@beta.test", Role.OWNER)
    alpha = tenant_client(tenant_a, owner)
    assert alpha.get("/").status_code == 200

    # The same cookie, sent to beta's host: beta's schema has no such session.
    for path in ("/", "/sites/", "/team/", "/api-keys/"):
        response = alpha.get(path, HTTP_HOST=host_of(tenant_b))
        assert response.status_code == 302, path
        assert response["Location"].startswith("/login/")


def test_an_inactive_invitee_cannot_log_in(tenant_a, make_member):
    make_member(tenant_a, "invitee@alpha.test", Role.AGENT, active=False)
    client = Client(HTTP_HOST=host_of(tenant_a))
    assert log_in(client, "invitee@alpha.test").status_code == 200
    assert client.get("/").status_code == 302
