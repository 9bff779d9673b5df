"""Forged credentials a visitor controls: the visitor token (tampered, re-signed with the wrong
key or for another purpose, expired) and the identity hash (`Parley('identify', {..., hash})`).

Replaying a valid token into another site or tenant: tests/security/test_cross_tenant.py.
"""

import base64
import time
from unittest import mock

import pytest
from channels.db import database_sync_to_async
from django.core import signing

from tenants.models import Site
from tenants.services import site_new_identity_secret
from tenants.site_directory import site_cache_clear
from tenants.tokens import token_issue
from tests.security.support import ORIGIN, identity_hash
from tests.support.api_clients import PlatformClient, error_code
from tests.support.factories import make_site, make_visitor
from tests.support.sockets import chat_socket, closed_with


@pytest.fixture(autouse=True)
def _tenants_on_a_plan_with_several_sites(tenant_a, tenant_b, on_plan):
    """These tests give a tenant several sites: more than the free plan allows."""
    on_plan(tenant_a, "pro")
    on_plan(tenant_b, "pro")


URL = "/api/widget/v1/session"


def flipped(text: str, index: int) -> str:
    return text[:index] + ("A" if text[index] != "A" else "B") + text[index + 1 :]


def forged_tokens(valid: str) -> dict[str, str]:
    payload, timestamp, signature = valid.rsplit(":", 2)
    raw = signing.loads(valid, salt="parley.visitor-token.v1")
    other_tenant = {**raw, "tenant_id": raw["tenant_id"] + 1}
    return {
        "payload changed": f"{flipped(payload, 5)}:{timestamp}:{signature}",
        "signature changed": f"{payload}:{timestamp}:{flipped(signature, 3)}",
        "timestamp changed": f"{payload}:{flipped(timestamp, 0)}:{signature}",
        "signature removed": f"{payload}:{timestamp}",
        "claims re-encoded unsigned": base64.urlsafe_b64encode(str(other_tenant).encode()).decode(),
        "signed by another key": signing.dumps(
            raw, key="not-the-secret-key", salt="parley.visitor-token.v1", compress=True
        ),
        # The right key, another purpose: a dashboard login link or a page cursor is no token.
        "signed for another purpose": signing.dumps(
            raw, salt="parley.dashboard.login-link.v1", compress=True
        ),
        "expired": expired_token(raw),
    }


def expired_token(claims: dict) -> str:
    """A genuine token, issued 25 hours ago (the lifetime is 24 hours)."""
    with mock.patch("time.time", return_value=time.time() - 25 * 3600):
        token, _ = token_issue(**{k: v for k, v in claims.items() if k != "issued_at"})
    return token


@pytest.mark.django_db(transaction=True)
async def test_a_forged_or_expired_token_closes_the_chat_socket_4401(tenant_a, fresh_sockets):
    site = await database_sync_to_async(make_site)(tenant_a)
    visitor = await database_sync_to_async(make_visitor)(site)
    for name, token in forged_tokens(visitor.token).items():
        socket = chat_socket(site, visitor.room)
        assert (await socket.connect())[0]
        await socket.send_json_to({"type": "auth", "token": token})
        assert await closed_with(socket) == 4401, name


@pytest.mark.django_db
def test_a_forged_or_expired_token_never_resumes_a_visitor(platform, tenant_a):
    site = make_site(tenant_a)
    page = PlatformClient(HTTP_ORIGIN=ORIGIN)
    first = page.post_json(URL, {"site_key": site.key}).json()
    for name, token in forged_tokens(first["token"]).items():
        response = page.post_json(URL, {"site_key": site.key, "visitor_token": token})
        assert response.status_code == 200, name
        assert response.json()["visitor_id"] != first["visitor_id"], name
        assert response.json()["conversation"] != first["conversation"], name


# --- Identity hashes --------------------------------------------------------------------------


@pytest.fixture
def strict(platform, tenant_a):
    """A site that requires identity, its secret, and another site's secret."""
    site = make_site(tenant_a)
    site.site.require_identity = True
    site.site.save()
    other = make_site(tenant_a, name="Other")
    site_cache_clear()
    return site.key, site.site.identity_secret, other.site.identity_secret


def identify(site_key: str, user: dict):
    page = PlatformClient(HTTP_ORIGIN=ORIGIN)
    return page.post_json(URL, {"site_key": site_key, "user": user})


@pytest.mark.django_db
def test_the_right_hash_is_accepted(strict):
    site_key, secret, _ = strict
    response = identify(site_key, {"id": "user-42", "hash": identity_hash(secret, "user-42")})
    assert response.status_code == 200
    # Hex is case-insensitive (PROTOCOL.md Decisions): the same value in capitals is no forgery.
    upper = identity_hash(secret, "user-42").upper()
    assert identify(site_key, {"id": "user-42", "hash": upper}).status_code == 200


@pytest.mark.django_db
def test_forged_identity_hashes_are_refused(strict, tenant_b):
    site_key, secret, other_secret = strict
    right = identity_hash(secret, "user-42")
    other_tenant_secret = make_site(tenant_b).site.identity_secret
    forged = {
        "wrong hash": "0" * 64,
        "hash of another user id": identity_hash(secret, "user-43"),
        "hash of the id with a space": identity_hash(secret, "user-42 "),
        "another site's secret": identity_hash(other_secret, "user-42"),
        "another tenant's secret": identity_hash(other_tenant_secret, "user-42"),
        "leading space": " " + right,
        "trailing newline": right + "\n",
        "truncated": right[:-1],
        "doubled": right + right,
        "the secret itself": secret,
        "non-ASCII": "é" * 64,
        "full-width digits": "\uff10" * 64,
    }
    for name, hash_ in forged.items():
        response = identify(site_key, {"id": "user-42", "hash": hash_})
        assert response.status_code == 401, (name, response.content)
        assert error_code(response) == "identity_invalid", name
    empty = identify(site_key, {"id": "user-42", "hash": ""})
    assert (empty.status_code, error_code(empty)) == (401, "identity_required")
    assert identify(site_key, {"id": "user-42", "hash": right}).status_code == 200


@pytest.mark.django_db
def test_an_old_identity_secret_stops_verifying_at_once(strict):
    site_key, secret, _ = strict
    site = Site.objects.get(keys__key=site_key)
    site_new_identity_secret(site=site)
    site_cache_clear()
    response = identify(site_key, {"id": "user-42", "hash": identity_hash(secret, "user-42")})
    assert (response.status_code, error_code(response)) == (401, "identity_invalid")
