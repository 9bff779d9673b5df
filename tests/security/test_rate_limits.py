"""Rate limits an attacker would try to get around. The limits themselves are tested where they
live: signup (tests/tenants/test_signup.py), sign-in and password reset
(tests/dashboard/test_auth.py), the session endpoint (tests/widget/test_session.py), the site-key
API (tests/tenants/test_api_sites.py), socket frames and connections
(tests/widget/test_consumers_chat.py). Here: password spraying over many accounts, and a forged
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
