"""Rate limits an attacker would try to get around. The limits themselves are tested where they
live: signup (tests/tenants/test_signup.py), sign-in and password reset
(tests/dashboard/test_auth.py), the session endpoint (tests/widget/test_session.py), the site-key
API (tests/tenants/test_api_sites.py), socket frames and connections
(tests/widget/test_consumers_chat.py). Here: password spraying over many accounts, a sign-in to
an attacker's own tenant meant to clear the failures against another's, and a forged
`X-Forwarded-For` header, which must not make one client look like many.
"""

import pytest
from django.core.cache import cache
from django.test import Client
from django_tenants.utils import tenant_context

from accounts.models import Role, User
from tests.security.support import ORIGIN, PASSWORD, host_of
from tests.support.api_clients import PlatformClient, error_code
from tests.support.factories import make_site

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_counters():
    cache.clear()
    yield
    cache.clear()


def log_in(client, email: str, password: str):
    return client.post("/login/", {"username": email, "password": password})


def test_one_address_spraying_a_password_over_many_accounts_is_throttled(tenant_a, settings):
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = (4, 900)
    with tenant_context(tenant_a):
        own = User.objects.create_user(email="mine@alpha.test", password=PASSWORD)
        victim = User.objects.create_user(
            email="victim@alpha.test", password=PASSWORD, role=Role.OWNER
        )
    attacker = Client(HTTP_HOST=host_of(tenant_a), REMOTE_ADDR="203.0.113.9")
    for n in range(2):
        log_in(attacker, f"user{n}@alpha.test", "Summer2026!")
    # Signing in to one's own account does not wipe the address's failures...
    assert log_in(attacker, own.email, PASSWORD).status_code == 302
    attacker.post("/logout/")
    for n in range(2, 4):
        log_in(attacker, f"user{n}@alpha.test", "Summer2026!")
    # ...so the fifth guess, even a right one, is refused from this address.
    refused = log_in(attacker, victim.email, PASSWORD)
    assert refused.status_code == 200
    assert "Too many failed sign-in attempts from your network" in refused.content.decode()
    elsewhere = Client(HTTP_HOST=host_of(tenant_a), REMOTE_ADDR="198.51.100.7")
    assert log_in(elsewhere, victim.email, PASSWORD).status_code == 302


def test_signing_in_to_ones_own_tenant_does_not_clear_the_failures_against_another(
    tenant_a, tenant_b, settings
):
    settings.LOGIN_FAILURE_LIMIT = (3, 900)
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = (5, 900)
    email = "victim@shared.test"
    with tenant_context(tenant_a):
        User.objects.create_user(email=email, password=PASSWORD, role=Role.OWNER)
    with tenant_context(tenant_b):  # the attacker's own tenant, signed up with the victim's email
        User.objects.create_user(email=email, password="the-attackers-own-pass-7", role=Role.OWNER)
    on_a = Client(HTTP_HOST=host_of(tenant_a), REMOTE_ADDR="203.0.113.9")
    on_b = Client(HTTP_HOST=host_of(tenant_b), REMOTE_ADDR="203.0.113.9")

    for guess in ("Summer2026!", "Winter2026!"):
        log_in(on_a, email, guess)
    assert log_in(on_b, email, "the-attackers-own-pass-7").status_code == 302
    on_b.post("/logout/")
    log_in(on_a, email, "Spring2026!")

    # Three failures on tenant A: even the right password is refused there from this address.
    refused = log_in(on_a, email, PASSWORD)
    assert refused.status_code == 200
    assert "Too many failed sign-in attempts for this email" in refused.content.decode()
    # The address's count spans every tenant and was not cleared either: two more failures, on
    # any tenant, and this address is refused everywhere.
    log_in(on_b, "someone@else.test", "Autumn2026!")
    log_in(on_b, "someone@else.test", "Autumn2027!")
    sprayed = log_in(on_b, email, "the-attackers-own-pass-7")
    assert "Too many failed sign-in attempts from your network" in sprayed.content.decode()
    # The victim, from their own address, still signs in on tenant A.
    victim = Client(HTTP_HOST=host_of(tenant_a), REMOTE_ADDR="198.51.100.7")
    assert log_in(victim, email, PASSWORD).status_code == 302


def test_a_forged_forwarded_for_header_does_not_escape_the_login_throttle(tenant_a, settings):
    settings.LOGIN_FAILURE_LIMIT = (2, 900)
    settings.TRUSTED_PROXY_COUNT = 1  # nginx appends the address it saw, the last entry
    with tenant_context(tenant_a):
        User.objects.create_user(email="owner@alpha.test", password=PASSWORD, role=Role.OWNER)
    for n in range(3):
        client = Client(
            HTTP_HOST=host_of(tenant_a),
            HTTP_X_FORWARDED_FOR=f"10.0.0.{n}, 203.0.113.9",  # forged part, then nginx's
        )
        response = log_in(client, "owner@alpha.test", "wrong" if n < 2 else PASSWORD)
    assert "Too many failed sign-in attempts" in response.content.decode()


def test_a_forged_forwarded_for_header_does_not_escape_the_session_limit(
    platform, tenant_a, settings
):
    settings.WIDGET_SESSION_RATE_PER_IP = 3
    site = make_site(tenant_a)
    answers = []
    for n in range(4):
        page = PlatformClient(HTTP_ORIGIN=ORIGIN, HTTP_X_FORWARDED_FOR=f"10.9.9.{n}")
        answers.append(page.post_json("/api/widget/v1/session", {"site_key": site.key}))
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert error_code(answers[-1]) == "rate_limited"
