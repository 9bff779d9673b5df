"""Every secret is compared in constant time, so response times tell an attacker nothing about how
much of a guess was right.

Timing a comparison from a test would be flaky (nanoseconds against milliseconds of noise), so
these tests check the code path instead: the comparison primitive is replaced by a recorder that
still answers correctly, and each test asserts the secret went through it. Replacing the
comparison with `==` makes the matching test fail.

- identity hashes: `hmac.compare_digest` (widget/services/sessions.py);
- visitor tokens, dashboard login links, API page cursors: Django's signing, whose
  `constant_time_compare` calls `secrets.compare_digest`;
- Stripe's webhook signatures: the stripe library, `hmac.compare_digest`;
- API keys: no comparison in Python at all. The key's SHA-256 digest is looked up through a
  unique index. Timing could at most reveal how much of a *digest* matched some stored digest,
  and a digest prefix gives nothing toward a key that hashes to it (SHA-256 is preimage
  resistant, and keys are 256 random bits). The test checks the raw key never reaches SQL.
"""

import hmac
import json
import secrets
import time
from hashlib import sha256

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context

from accounts.login_links import login_link, login_link_user
from tenants.billing.services import stripe_webhook_receive
from tenants.keys import api_key_digest
from tenants.services import api_key_create
from tenants.tokens import token_issue, token_verify
from tests.security.support import ORIGIN, identity_hash, world_of
from tests.support.api_clients import PlatformClient, site_api_client
from tests.support.factories import make_site


@pytest.fixture
def recorded(monkeypatch):
    """Record every call of `hmac.compare_digest` and `secrets.compare_digest` (the same C
    function, bound under two names), answering as the original does."""
    calls: list[tuple[bytes | str, bytes | str]] = []
    original = hmac.compare_digest

    def compare_digest(a, b):
        calls.append((a, b))
        return original(a, b)

    monkeypatch.setattr(hmac, "compare_digest", compare_digest)
    monkeypatch.setattr(secrets, "compare_digest", compare_digest)
    return calls


def as_bytes(value) -> bytes:
    return value if isinstance(value, bytes) else value.encode()


@pytest.mark.django_db
def test_identity_hashes_are_compared_in_constant_time(platform, tenant_a, recorded):
    site = make_site(tenant_a)
    given = identity_hash(site.site.identity_secret, "user-42")
    response = PlatformClient(HTTP_ORIGIN=ORIGIN).post_json(
        "/api/widget/v1/session", {"site_key": site.key, "user": {"id": "user-42", "hash": given}}
    )
    assert response.status_code == 200
    assert (given.encode(), given.encode()) in [tuple(map(as_bytes, c)) for c in recorded]


def test_visitor_tokens_are_verified_in_constant_time(recorded):
    token, _ = token_issue(tenant_id=1, site_id=2, visitor_id="v", conversation="cv_x")
    assert token_verify(token).site_id == 2
    signature = token.rsplit(":", 1)[1]
    assert any(signature.encode() in map(as_bytes, call) for call in recorded)


@pytest.mark.django_db
def test_login_links_are_verified_in_constant_time(tenant_a, recorded):
    world = world_of(tenant_a)
    link = login_link(tenant=tenant_a, user=world.owner)
    token = link.rstrip("/").rsplit("/", 1)[1]
    with tenant_context(tenant_a):
        assert login_link_user(tenant=tenant_a, token=token) == world.owner
    assert any(token.rsplit(":", 1)[1].encode() in map(as_bytes, call) for call in recorded)


@pytest.mark.django_db
def test_stripe_signatures_are_verified_in_constant_time(settings, recorded):
    settings.STRIPE_WEBHOOK_SECRET = "whsec_constant_time"
    event = {"id": "evt_1", "type": "ping.unknown", "created": 1, "data": {"object": {}}}
    payload = json.dumps(event).encode()
    timestamp = int(time.time())
    digest = hmac.new(b"whsec_constant_time", f"{timestamp}.".encode() + payload, sha256)
    header = f"t={timestamp},v1={digest.hexdigest()}"
    assert stripe_webhook_receive(payload=payload, signature=header) == "ignored"
    assert any(digest.hexdigest().encode() in map(as_bytes, call) for call in recorded)


@pytest.mark.django_db
def test_api_keys_are_looked_up_by_digest_and_never_reach_sql(platform, tenant_a):
    _, api_key = api_key_create(tenant=tenant_a, name="crm")
    with CaptureQueriesContext(connection) as queries:
        assert site_api_client(api_key).get("/api/v1/sites").status_code == 200
    sql = " ".join(query["sql"] for query in queries.captured_queries)
    assert api_key_digest(api_key) in sql
    assert api_key.removeprefix("sk_") not in sql
