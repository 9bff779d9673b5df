"""/metrics and the reasons /readyz gives are the operator's: a caller with the metrics token, or
on loopback when no token is set (core/middleware.py)."""

import pytest

pytestmark = pytest.mark.django_db

TOKEN = "mt_0123456789abcdef"
FAILING = {"database": "OperationalError: could not connect to server db-7.internal:5432"}


@pytest.fixture
def database_failing(monkeypatch):
    monkeypatch.setattr("core.middleware.failing_checks", lambda: dict(FAILING))


def test_without_a_token_metrics_are_served_to_loopback_only(client):
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="::1").status_code == 200
    outside = client.get("/metrics", REMOTE_ADDR="203.0.113.5")
    assert outside.status_code == 403
    assert outside.json()["error"]["code"] == "forbidden"
    assert b"parley_" not in outside.content


def test_with_a_token_metrics_need_it_from_everywhere(client, settings):
    settings.METRICS_TOKEN = TOKEN
    for headers in ({}, {"HTTP_AUTHORIZATION": "Bearer wrong"}, {"HTTP_AUTHORIZATION": TOKEN}):
        for address in ("127.0.0.1", "10.0.0.7"):
            refused = client.get("/metrics", REMOTE_ADDR=address, **headers)
            assert refused.status_code == 401, (address, headers)
            assert refused.json()["error"]["code"] == "invalid_token"
    served = client.get("/metrics", REMOTE_ADDR="10.0.0.7", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert served.status_code == 200
    assert b"parley_" in served.content


def test_a_request_relayed_by_a_local_proxy_is_not_loopback(client, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    relayed = client.get("/metrics", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.5")
    assert relayed.status_code == 403


def test_readyz_names_the_failing_parts_to_the_operator_only(client, settings, database_failing):
    stranger = client.get("/readyz", REMOTE_ADDR="203.0.113.5")
    assert stranger.status_code == 503
    assert stranger.json() == {"status": "unavailable"}
    local = client.get("/readyz", REMOTE_ADDR="127.0.0.1")
    assert local.json() == {"status": "unavailable", "failing": FAILING}

    settings.METRICS_TOKEN = TOKEN
    assert client.get("/readyz", REMOTE_ADDR="127.0.0.1").json() == {"status": "unavailable"}
    operator = client.get("/readyz", REMOTE_ADDR="10.0.0.7", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert operator.status_code == 503
    assert operator.json()["failing"] == FAILING
