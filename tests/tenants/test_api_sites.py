"""`/api/v1/sites`: authentication, the sites' lifecycle, keys and secrets, every refusal."""

import hashlib
import hmac
import json
from datetime import datetime, timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from core.errors import UnknownSiteKey
from tenants import selectors
from tenants.models import ApiKey, Site
from tenants.services import api_key_create, api_key_revoke
from tenants.site_directory import site_cache_clear, site_for_key
from tests.support.api_clients import PlatformClient, error_code, site_api_client

pytestmark = pytest.mark.django_db

SITE = {"name": "Shop", "allowed_origins": ["https://shop.example.com"]}


def create_site(api, **fields):
    response = api.post_json("/api/v1/sites", SITE | fields)
    assert response.status_code == 201, response.content
    return response.json()


# --- Authentication ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer pk_not_an_api_key", "Bearer sk_unknown", "Basic c2s6eA=="],
)
def test_a_request_without_a_valid_api_key_is_refused(platform, authorization):
    headers = {} if authorization is None else {"HTTP_AUTHORIZATION": authorization}
    response = PlatformClient(**headers).get("/api/v1/sites")
    assert response.status_code == 401
    assert error_code(response) == "invalid_token"


def test_a_revoked_api_key_is_refused(platform, tenant_a):
    row, api_key = api_key_create(tenant=tenant_a, name="old")
    api = site_api_client(api_key)
    assert api.get("/api/v1/sites").status_code == 200
    api_key_revoke(api_key=row)
    response = api.get("/api/v1/sites")
    assert response.status_code == 401
    assert error_code(response) == "invalid_token"


def test_last_used_is_recorded_at_most_once_a_minute(platform, tenant_a):
    row, api_key = api_key_create(tenant=tenant_a, name="k")
    api = site_api_client(api_key)
    api.get("/api/v1/sites")
    first = ApiKey.objects.get(pk=row.pk).last_used_at
    assert first is not None
    api.get("/api/v1/sites")
    assert ApiKey.objects.get(pk=row.pk).last_used_at == first
    ApiKey.objects.filter(pk=row.pk).update(last_used_at=first - timedelta(minutes=2))
    api.get("/api/v1/sites")
    assert ApiKey.objects.get(pk=row.pk).last_used_at > first


@override_settings(SITE_API_RATE_PER_KEY=3)
def test_each_api_key_is_rate_limited(api_a, api_b):
    for _ in range(3):
        assert api_a.get("/api/v1/sites").status_code == 200
    response = api_a.get("/api/v1/sites")
    assert response.status_code == 429
    assert error_code(response) == "rate_limited"
    retry_after = response.json()["error"]["retry_after"]
    assert 1 <= retry_after <= 60
    assert response["Retry-After"] == str(retry_after)
    assert api_b.get("/api/v1/sites").status_code == 200


# --- Create, list, read ---------------------------------------------------------------------


def test_a_created_site_has_a_key_a_secret_shown_once_and_its_settings(api_a, tenant_a):
    created = create_site(
        api_a,
        allowed_origins=["HTTPS://Shop.Example.com:443/", "https://*.example.org"],
        public_rooms=True,
        require_identity=True,
        color="#aabbcc",
        greeting="Bonjour",
        position="left",
        locale="fr-CA",
    )
    assert created["site_key"].startswith("pk_")
    assert [key["key"] for key in created["keys"]] == [created["site_key"]]
    assert len(created["identity_secret"]) >= 64
    assert created["allowed_origins"] == ["https://shop.example.com", "https://*.example.org"]
    assert (created["public_rooms"], created["require_identity"]) == (True, True)
    assert (created["color"], created["greeting"], created["position"], created["locale"]) == (
        "#aabbcc",
        "Bonjour",
        "left",
        "fr-CA",
    )
    site = Site.objects.get(pk=created["id"])
    assert site.tenant_id == tenant_a.id
    assert site.identity_secret == created["identity_secret"]

    read = api_a.get(f"/api/v1/sites/{created['id']}").json()
    assert "identity_secret" not in read
    assert read["site_key"] == created["site_key"]
    assert site_for_key(read["site_key"]).site_id == created["id"]


def test_defaults_apply_when_appearance_is_not_given(api_a):
    created = create_site(api_a)
    assert (created["color"], created["position"], created["locale"]) == ("#4f46e5", "right", "en")
    assert (created["public_rooms"], created["require_identity"]) == (False, False)
    assert (created["consent_required"], created["consent_text"]) == (False, "")


def test_the_consent_step_is_set_and_changed_through_the_api(api_a):
    created = create_site(api_a, consent_required=True, consent_text=" We keep chats 30 days. ")
    assert (created["consent_required"], created["consent_text"]) == (
        True,
        "We keep chats 30 days.",
    )
    assert site_for_key(created["site_key"]).consent_required is True
    changed = api_a.patch_json(f"/api/v1/sites/{created['id']}", {"consent_required": False}).json()
    assert (changed["consent_required"], changed["consent_text"]) == (
        False,
        "We keep chats 30 days.",
    )
    assert Site.objects.get(pk=created["id"]).consent_required is False


def test_sites_are_listed_page_by_page(api_a, api_b, tenant_a, on_plan):
    on_plan(tenant_a, "pro")  # room for three sites
    ids = [create_site(api_a, name=f"Site {n}")["id"] for n in range(3)]
    create_site(api_b, name="Not A's")
    first = api_a.get("/api/v1/sites", {"limit": 2}).json()
    assert [site["id"] for site in first["data"]] == ids[:2]
    assert first["next"]
    second = api_a.get("/api/v1/sites", {"limit": 2, "cursor": first["next"]}).json()
    assert [site["id"] for site in second["data"]] == ids[2:]
    assert second["next"] is None


@pytest.mark.parametrize(
    "query", [{"cursor": "made-up"}, {"limit": 0}, {"limit": 101}, {"limit": "ten"}]
)
def test_bad_paging_parameters_are_refused(api_a, query):
    response = api_a.get("/api/v1/sites", query)
    assert response.status_code == 400
    assert error_code(response) == "bad_request"


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"allowed_origins": ["ftp://shop.example.com"]}, "ftp://shop.example.com"),
        ({"allowed_origins": ["https://shop.example.com/path"]}, "https://shop.example.com/path"),
        ({"allowed_origins": ["http://*.example.com"]}, "http://*.example.com"),
        ({"allowed_origins": ["*"]}, "'*'"),
        ({"color": "red"}, "color"),
        ({"position": "top"}, "position"),
        ({"locale": "english!"}, "locale"),
        ({"name": "   "}, "name"),
        ({"greeting": "x" * 301}, "greeting"),
        ({"consent_text": "x" * 1001}, "consent_text"),
    ],
)
def test_invalid_site_fields_are_refused_naming_the_field(api_a, fields, named):
    response = api_a.post_json("/api/v1/sites", SITE | fields)
    assert response.status_code == 400
    assert error_code(response) == "bad_request"
    assert named in response.json()["error"]["message"]


@pytest.mark.parametrize(
    "body",
    [
        {"allowed_origins": ["https://a.example"]},
        {"name": 5, "allowed_origins": []},
        {"name": "S", "allowed_origins": "https://a.example"},
        {"name": "S", "allowed_origins": [], "public_rooms": "yes"},
        {"name": "S", "allowed_origins": [], "public_rooms": 1},
        {"name": "S\x00", "allowed_origins": []},
        {"name": "S", "allowed_origins": [], "tenant": 2},
        [],
    ],
)
def test_wrong_types_missing_and_unknown_fields_are_refused(api_a, body):
    response = api_a.post_json("/api/v1/sites", body)
    assert response.status_code == 400
    assert error_code(response) == "bad_request"


def test_malformed_json_is_refused(api_a):
    response = api_a.post_json("/api/v1/sites", '{"name": "Shop",')
    assert response.status_code == 400
    assert error_code(response) == "invalid_json"


def test_an_oversized_body_is_refused(api_a):
    body = json.dumps(SITE | {"greeting": "x" * 70_000})
    response = api_a.post_json("/api/v1/sites", body)
    assert response.status_code == 413
    assert error_code(response) == "payload_too_large"


@pytest.mark.parametrize("path", ["/api/v1/sites/0", "/api/v1/sites/abc", f"/api/v1/sites/{2**64}"])
def test_a_malformed_site_id_is_refused(api_a, path):
    response = api_a.get(path)
    assert response.status_code == 400
    assert error_code(response) == "bad_request"


def test_a_failure_on_parleys_side_answers_in_the_contracts_shape(api_a, monkeypatch, caplog):
    def broken(**kwargs):
        raise RuntimeError("the database fell over")

    monkeypatch.setattr(selectors, "site_list", broken)  # stands in for any bug in a view
    response = api_a.get("/api/v1/sites")
    assert response.status_code == 500
    assert error_code(response) == "internal_error"
    assert "fell over" not in response.content.decode()  # no internals leak to the client
    assert "the database fell over" in caplog.text  # but they are logged


def test_an_unknown_path_and_a_wrong_method_answer_in_the_contracts_shape(api_a):
    missing = api_a.get("/api/v1/nothing")
    assert missing.status_code == 404
    assert error_code(missing) == "not_found"
    wrong = api_a.put("/api/v1/sites")
    assert wrong.status_code == 405
    assert error_code(wrong) == "method_not_allowed"


# --- Another tenant's sites -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("get", "", None),
        ("patch_json", "", {"name": "Mine now"}),
        ("delete", "", None),
        ("post_json", "/rotate-key", {}),
        ("post_json", "/identity-secret", {}),
    ],
)
def test_another_tenants_site_is_not_found(api_a, api_b, method, suffix, body):
    theirs = create_site(api_b, name="B's site")
    path = f"/api/v1/sites/{theirs['id']}{suffix}"
    response = getattr(api_a, method)(path, *([body] if body is not None else []))
    assert response.status_code == 404
    assert error_code(response) == "not_found"
    assert "B's site" not in response.content.decode()
    assert Site.objects.get(pk=theirs["id"]).name == "B's site"


# --- Change, delete -----------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)  # the site cache forgets a site when changes commit
def test_a_patch_changes_only_the_given_fields_and_the_widget_sees_it_at_once(api_a):
    created = create_site(api_a, greeting="Hi")
    assert site_for_key(created["site_key"]).allowed_origins == ("https://shop.example.com",)
    response = api_a.patch_json(
        f"/api/v1/sites/{created['id']}",
        {"allowed_origins": ["https://new.example.com"], "color": "#000000"},
    )
    assert response.status_code == 200
    changed = response.json()
    assert changed["allowed_origins"] == ["https://new.example.com"]
    assert (changed["color"], changed["greeting"], changed["name"]) == ("#000000", "Hi", "Shop")
    assert site_for_key(created["site_key"]).allowed_origins == ("https://new.example.com",)


@pytest.mark.parametrize(
    "body",
    [
        {"name": None},
        {"allowed_origins": ["nope"]},
        {"public_rooms": "true"},
        {"consent_required": "yes"},
        {"consent_text": None},
        {"site_key": "pk_mine"},
        {"identity_secret": "x"},
    ],
)
def test_a_bad_patch_is_refused_and_changes_nothing(api_a, body):
    created = create_site(api_a)
    response = api_a.patch_json(f"/api/v1/sites/{created['id']}", body)
    assert response.status_code == 400
    assert error_code(response) == "bad_request"
    assert api_a.get(f"/api/v1/sites/{created['id']}").json() == {
        key: value for key, value in created.items() if key != "identity_secret"
    }


@pytest.mark.django_db(transaction=True)
def test_a_deleted_site_is_gone_and_its_key_refused(api_a):
    created = create_site(api_a)
    site_for_key(created["site_key"])
    response = api_a.delete(f"/api/v1/sites/{created['id']}")
    assert response.status_code == 204
    assert api_a.get(f"/api/v1/sites/{created['id']}").status_code == 404
    with pytest.raises(UnknownSiteKey):
        site_for_key(created["site_key"])


# --- Keys and secrets ---------------------------------------------------------------------


def test_rotating_keeps_the_old_key_for_the_default_grace(api_a):
    created = create_site(api_a)
    # No body at all, as `curl -X POST` sends.
    response = api_a.post(
        f"/api/v1/sites/{created['id']}/rotate-key", content_type="application/json"
    )
    assert response.status_code == 200
    rotated = response.json()
    assert rotated["site_key"] != created["site_key"]
    old = next(key for key in rotated["keys"] if key["key"] == created["site_key"])
    grace = datetime.fromisoformat(old["expires_at"]) - timezone.now()
    assert timedelta(hours=23, minutes=59) < grace <= timedelta(hours=24)
    assert site_for_key(created["site_key"]).site_id == created["id"]


def test_rotating_with_no_grace_refuses_the_old_key_at_once(api_a):
    created = create_site(api_a)
    response = api_a.post_json(f"/api/v1/sites/{created['id']}/rotate-key", {"grace_seconds": 0})
    assert [key["key"] for key in response.json()["keys"]] == [response.json()["site_key"]]
    site_cache_clear()
    with pytest.raises(UnknownSiteKey):
        site_for_key(created["site_key"])


@pytest.mark.parametrize(
    "body", [{"grace_seconds": -1}, {"grace_seconds": 10**9}, {"grace_seconds": "60"}, {"x": 1}]
)
def test_a_bad_grace_is_refused(api_a, body):
    created = create_site(api_a)
    response = api_a.post_json(f"/api/v1/sites/{created['id']}/rotate-key", body)
    assert response.status_code == 400
    assert error_code(response) == "bad_request"


def test_a_new_identity_secret_replaces_the_old_one(api_a):
    created = create_site(api_a, require_identity=True)
    response = api_a.post(
        f"/api/v1/sites/{created['id']}/identity-secret", content_type="application/json"
    )
    assert response.status_code == 200
    secret = response.json()["identity_secret"]
    assert secret != created["identity_secret"]
    assert len(secret) >= 64

    def session(secret_used: str):
        user_hash = hmac.new(secret_used.encode(), b"u1", hashlib.sha256).hexdigest()
        return PlatformClient(HTTP_ORIGIN="https://shop.example.com").post_json(
            "/api/widget/v1/session",
            {"site_key": created["site_key"], "user": {"id": "u1", "hash": user_hash}},
        )

    assert session(secret).status_code == 200
    stale = session(created["identity_secret"])
    assert stale.status_code == 401
    assert error_code(stale) == "identity_invalid"
