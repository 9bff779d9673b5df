"""`POST /api/widget/v1/session`: the visitor, the conversation, the token, and every refusal."""

import hashlib
import hmac
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.test import override_settings
from django.utils import timezone
from django_tenants.utils import schema_context

from tenants.models import DEFAULT_ATTACHMENT_TYPES
from tenants.selectors import site_current_key
from tenants.services import site_create
from tenants.site_directory import site_cache_clear
from tenants.tokens import token_verify
from tests.support.api_clients import PlatformClient, error_code
from widget.models import Conversation, Visitor

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("platform")]

URL = "/api/widget/v1/session"
ORIGIN = "https://shop.example.com"


@pytest.fixture
def site(tenant_a):
    return site_create(
        tenant=tenant_a,
        name="Shop",
        allowed_origins=[ORIGIN, "https://*.example.org"],
        color="#112233",
        greeting="Hello there",
        position="left",
        locale="fr",
    )


@pytest.fixture
def site_key(site):
    return site_current_key(site).key


@pytest.fixture
def browser():
    return PlatformClient(HTTP_ORIGIN=ORIGIN)


def start(client, body, **extra):
    return client.post_json(URL, body, **extra)


def identity_hash(secret: str, user_id: str) -> str:
    return hmac.new(secret.encode(), user_id.encode(), hashlib.sha256).hexdigest()


def test_a_new_visitor_gets_a_token_a_private_conversation_and_the_site(
    browser, site, site_key, tenant_a
):
    response = start(browser, {"site_key": site_key})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["conversation"].startswith("cv_")
    assert len(body["conversation"]) <= 64
    assert body["ws_url"] == (
        f"ws://localhost:8000/ws/chat/{body['conversation']}/?site_key={site_key}"
    )
    assert body["site"] == {
        "name": "Shop",
        "color": "#112233",
        "greeting": "Hello there",
        "position": "left",
        "locale": "fr",
        "public_rooms": False,
        "agents_online": False,
        "typing_preview": False,
        "status": {
            "agents": "offline",
            "reply_minutes": None,
            "open": True,
            "changes_at": None,
            "next_opening": None,
        },
        "away_message": "",
        "out_of_hours": "offline_form",
        "offline_form_when_unavailable": False,
        "attachment_types": list(DEFAULT_ATTACHMENT_TYPES),
    }
    claims = token_verify(body["token"])
    assert claims.visitor_id == body["visitor_id"]
    assert claims.conversation == body["conversation"]
    assert (claims.site_id, claims.tenant_id) == (site.id, tenant_a.id)
    expires_at = datetime.fromisoformat(body["expires_at"])
    assert abs(expires_at - (datetime.now(UTC) + timedelta(hours=24))) < timedelta(minutes=1)
    with schema_context(tenant_a.schema_name):
        conversation = Conversation.objects.get(room=body["conversation"])
        assert str(conversation.visitor_id) == body["visitor_id"]
        assert conversation.site_id == site.id


@override_settings(PLATFORM_URL="https://chat.example.com")
def test_the_socket_url_is_secure_when_the_platform_is(browser, site_key):
    body = start(browser, {"site_key": site_key}).json()
    assert body["ws_url"].startswith(f"wss://chat.example.com/ws/chat/{body['conversation']}/")


def test_a_valid_previous_token_keeps_the_visitor_and_the_conversation(browser, site_key):
    first = start(browser, {"site_key": site_key}).json()
    again = start(browser, {"site_key": site_key, "visitor_token": first["token"]}).json()
    assert again["visitor_id"] == first["visitor_id"]
    assert again["conversation"] == first["conversation"]
    assert token_verify(again["token"]).visitor_id == first["visitor_id"]


@pytest.mark.parametrize("token", ["garbage", "x" * 3000])
def test_an_invalid_previous_token_starts_a_new_visitor(browser, site_key, token):
    first = start(browser, {"site_key": site_key}).json()
    response = start(browser, {"site_key": site_key, "visitor_token": token[:2048]})
    assert response.status_code == 200
    assert response.json()["visitor_id"] != first["visitor_id"]


def test_an_expired_previous_token_starts_a_new_visitor(browser, site_key, settings):
    first = start(browser, {"site_key": site_key}).json()
    settings.VISITOR_TOKEN_TTL = -1
    second = start(browser, {"site_key": site_key, "visitor_token": first["token"]})
    assert second.status_code == 200
    assert second.json()["visitor_id"] != first["visitor_id"]


def test_another_sites_token_starts_a_new_visitor(browser, site_key, tenant_a, tenant_b):
    other = site_create(tenant=tenant_b, name="Other", allowed_origins=[ORIGIN])
    foreign = start(browser, {"site_key": site_current_key(other).key}).json()
    response = start(browser, {"site_key": site_key, "visitor_token": foreign["token"]})
    assert response.status_code == 200
    assert response.json()["visitor_id"] != foreign["visitor_id"]
    with schema_context(tenant_a.schema_name):
        assert not Visitor.objects.filter(id=foreign["visitor_id"]).exists()


def test_a_wildcard_origin_is_allowed(site_key):
    response = start(PlatformClient(HTTP_ORIGIN="https://blog.example.org"), {"site_key": site_key})
    assert response.status_code == 200


# --- Identity -------------------------------------------------------------------------------


def test_an_identified_user_keeps_one_conversation_across_devices(site, site_key, tenant_a):
    user = {"id": "user-42", "name": "Ada", "email": "ada@example.com"}
    user["hash"] = identity_hash(site.identity_secret, "user-42")
    laptop = start(PlatformClient(HTTP_ORIGIN=ORIGIN), {"site_key": site_key, "user": user}).json()
    phone = start(PlatformClient(HTTP_ORIGIN=ORIGIN), {"site_key": site_key, "user": user}).json()
    assert phone["visitor_id"] == laptop["visitor_id"]
    assert phone["conversation"] == laptop["conversation"]
    assert token_verify(phone["token"]).user_id == "user-42"
    with schema_context(tenant_a.schema_name):
        visitor = Visitor.objects.get(id=laptop["visitor_id"])
        assert (visitor.external_id, visitor.name, visitor.email) == (
            "user-42",
            "Ada",
            "ada@example.com",
        )


def test_an_anonymous_visitor_who_logs_in_keeps_their_conversation(browser, site, site_key):
    anonymous = start(browser, {"site_key": site_key}).json()
    user = {"id": "u-7", "hash": identity_hash(site.identity_secret, "u-7")}
    identified = start(
        browser, {"site_key": site_key, "visitor_token": anonymous["token"], "user": user}
    ).json()
    assert identified["visitor_id"] == anonymous["visitor_id"]
    assert identified["conversation"] == anonymous["conversation"]


def test_an_unproven_user_id_never_joins_that_users_conversation(browser, site, site_key):
    user = {"id": "victim", "hash": identity_hash(site.identity_secret, "victim")}
    victim = start(browser, {"site_key": site_key, "user": user}).json()
    impostor = start(browser, {"site_key": site_key, "user": {"id": "victim", "name": "Eve"}})
    assert impostor.status_code == 200
    assert impostor.json()["visitor_id"] != victim["visitor_id"]
    assert impostor.json()["conversation"] != victim["conversation"]


def test_a_wrong_hash_is_refused(browser, site_key):
    response = start(browser, {"site_key": site_key, "user": {"id": "u1", "hash": "0" * 64}})
    assert response.status_code == 401
    assert error_code(response) == "identity_invalid"


@pytest.fixture
def strict_site(tenant_a):
    return site_create(
        tenant=tenant_a, name="Bank", allowed_origins=[ORIGIN], require_identity=True
    )


@pytest.mark.parametrize("user", [None, {"id": "u1"}, {"id": "u1", "name": "Ada"}])
def test_a_site_requiring_identity_refuses_a_visitor_without_a_hash(browser, strict_site, user):
    body = {"site_key": site_current_key(strict_site).key}
    if user is not None:
        body["user"] = user
    response = start(browser, body)
    assert response.status_code == 401
    assert error_code(response) == "identity_required"


def test_a_site_requiring_identity_accepts_a_proven_user(browser, strict_site):
    user = {"id": "u1", "hash": identity_hash(strict_site.identity_secret, "u1")}
    response = start(browser, {"site_key": site_current_key(strict_site).key, "user": user})
    assert response.status_code == 200
    assert token_verify(response.json()["token"]).user_id == "u1"


def test_a_site_requiring_identity_refuses_a_wrong_hash(browser, strict_site):
    user = {"id": "u1", "hash": identity_hash(strict_site.identity_secret, "u2")}
    response = start(browser, {"site_key": site_current_key(strict_site).key, "user": user})
    assert response.status_code == 401
    assert error_code(response) == "identity_invalid"


# --- Refusals -----------------------------------------------------------------------------


def test_an_origin_outside_the_allow_list_is_refused(site_key):
    response = start(PlatformClient(HTTP_ORIGIN="https://evil.example.net"), {"site_key": site_key})
    assert response.status_code == 403
    assert error_code(response) == "origin_not_allowed"


def test_a_missing_origin_is_refused(site_key):
    response = start(PlatformClient(), {"site_key": site_key})
    assert response.status_code == 403
    assert error_code(response) == "origin_not_allowed"


@pytest.mark.parametrize("key", ["pk_unknown", "sk_not_a_site_key", ""])
def test_an_unknown_key_is_refused(browser, key):
    response = start(browser, {"site_key": key})
    assert response.status_code == 404
    assert error_code(response) == "unknown_site_key"


def test_a_key_of_another_tenant_names_that_tenants_site_only(browser, tenant_b, tenant_a):
    other = site_create(tenant=tenant_b, name="Other", allowed_origins=["https://other.example"])
    response = start(browser, {"site_key": site_current_key(other).key})
    assert response.status_code == 403  # the other site does not allow this origin
    assert error_code(response) == "origin_not_allowed"


def test_a_revoked_key_is_refused(browser, site, site_key):
    site.keys.update(revoked_at=timezone.now())
    site_cache_clear()
    response = start(browser, {"site_key": site_key})
    assert response.status_code == 404
    assert error_code(response) == "unknown_site_key"


def test_a_rotated_key_works_until_its_grace_expires(browser, api_a, site, site_key):
    rotated = api_a.post_json(f"/api/v1/sites/{site.id}/rotate-key", {"grace_seconds": 1})
    assert rotated.status_code == 200
    new_key = rotated.json()["site_key"]
    assert new_key != site_key
    assert start(browser, {"site_key": site_key}).status_code == 200
    assert start(browser, {"site_key": new_key}).status_code == 200

    time.sleep(1.1)  # the grace passes; no cache needs clearing, the expiry is part of it
    response = start(browser, {"site_key": site_key})
    assert response.status_code == 404
    assert error_code(response) == "unknown_site_key"
    assert start(browser, {"site_key": new_key}).status_code == 200


@pytest.mark.parametrize(
    "content",
    ['{"site_key": ', "not json", '{"site_key": "pk_x"', "\xff\xfe"],
)
def test_malformed_json_is_refused(browser, content):
    response = start(browser, content)
    assert response.status_code == 400
    assert error_code(response) == "invalid_json"


@pytest.mark.parametrize(
    "body",
    [
        [],
        '"a JSON string"',
        {},
        {"site_key": 123},
        {"site_key": None},
        {"site_key": ["pk_x"]},
        {"site_key": "pk_x", "visitor_token": 5},
        {"site_key": "pk_x", "user": "u1"},
        {"site_key": "pk_x", "user": {"id": 1}},
        {"site_key": "pk_x", "user": {"name": "no id"}},
        {"site_key": "pk_x", "user": {"id": "u1", "email": "not an email"}},
        {"site_key": "pk_x", "user": {"id": "u1\x00"}},
    ],
)
def test_wrong_types_and_missing_fields_are_refused(browser, site_key, body):
    if isinstance(body, dict) and body.get("site_key") == "pk_x":
        body = body | {"site_key": site_key}
    response = start(browser, body)
    assert response.status_code == 400, response.content
    assert error_code(response) == "bad_request"


@pytest.mark.parametrize(
    "body",
    [{"site_key": "pk_x", "admin": True}, {"site_key": "pk_x", "user": {"id": "u", "role": "x"}}],
)
def test_unknown_fields_are_refused(browser, site_key, body):
    body = body | {"site_key": site_key}
    response = start(browser, body)
    assert response.status_code == 400
    assert error_code(response) == "bad_request"
    assert "Extra inputs" in response.json()["error"]["message"]


@pytest.mark.parametrize("size", [9000, 3_000_000], ids=["over-8-kib", "past-djangos-limit"])
def test_an_oversized_body_is_refused(browser, site_key, size):
    response = start(browser, {"site_key": site_key, "padding": "x" * size})
    assert response.status_code == 413
    assert error_code(response) == "payload_too_large"


@override_settings(WIDGET_SESSION_RATE_PER_IP=3)
def test_too_many_sessions_from_one_address_are_rate_limited(browser, site_key):
    for _ in range(3):
        assert start(browser, {"site_key": site_key}).status_code == 200
    response = start(browser, {"site_key": site_key})
    assert response.status_code == 429
    assert error_code(response) == "rate_limited"
    retry_after = response.json()["error"]["retry_after"]
    assert 1 <= retry_after <= 60
    assert response["Retry-After"] == str(retry_after)
    # Another address is not affected.
    other = start(browser, {"site_key": site_key}, REMOTE_ADDR="10.0.0.9")
    assert other.status_code == 200


@override_settings(WIDGET_SESSION_RATE_PER_SITE=2)
def test_too_many_sessions_for_one_site_are_rate_limited(browser, site_key):
    for address in ("10.0.0.1", "10.0.0.2"):
        assert start(browser, {"site_key": site_key}, REMOTE_ADDR=address).status_code == 200
    response = start(browser, {"site_key": site_key}, REMOTE_ADDR="10.0.0.3")
    assert response.status_code == 429
    assert error_code(response) == "rate_limited"


@pytest.mark.parametrize("method", ["get", "put", "delete"])
def test_a_wrong_method_answers_in_the_contracts_shape(browser, method):
    response = getattr(browser, method)(URL)
    assert response.status_code == 405
    assert error_code(response) == "method_not_allowed"
    assert "POST" in response["Allow"]


def test_an_unknown_path_answers_in_the_contracts_shape(browser):
    response = browser.post_json("/api/widget/v1/nothing-here", {})
    assert response.status_code == 404
    assert error_code(response) == "not_found"
