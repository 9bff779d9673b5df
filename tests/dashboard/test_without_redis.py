"""The dashboard while its Redis is down. The throttles: signing in and asking for a password
reset keep working, counting nothing, with one warning for the whole outage; once Redis is back,
failures are counted again. The billing page shows the visitors connected now as unknown. A real
redis-server, killed (and started again on the same socket)."""

import re
import time

import pytest
from django.test import Client

from tenants.billing import process_counters
from tenants.billing.connection_counter import RedisConnectionCounter
from tests.dashboard.conftest import PASSWORD, host_of
from tests.support.redis import RedisServer

pytestmark = pytest.mark.django_db


@pytest.fixture
def redis_server():
    server = RedisServer()
    yield server
    server.stop()


@pytest.fixture
def redis_cache(settings, redis_server):
    """The cache of production: Django's Redis cache on a real server, with its timeouts."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": [redis_server.url],
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }


def log_in(client: Client, email: str, password: str = PASSWORD):
    return client.post("/login/", {"username": email, "password": password})


def outage_lines(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "core.ratelimit"]


def test_the_dashboard_works_while_redis_is_down_and_counts_again_once_it_is_back(
    tenant_a, owner, settings, redis_server, redis_cache, caplog
):
    settings.LOGIN_FAILURE_LIMIT = (2, 900)
    settings.RATELIMIT_CACHE_RETRY_SECONDS = 0.05  # the cache is tried again almost at once
    client = Client(HTTP_HOST=host_of(tenant_a))
    redis_server.kill()

    with caplog.at_level("INFO", logger="core.ratelimit"):
        for _ in range(3):  # over the limit of 2, were it counted
            wrong = log_in(client, owner.email, "wrong-guess")
            assert wrong.status_code == 200
            assert "Please enter a correct email and password" in wrong.content.decode()
        assert log_in(client, owner.email).status_code == 302
        client.post("/logout/")
        assert client.post("/password-reset/", {"email": owner.email}).status_code == 302
        down = outage_lines(caplog)
        assert len(down) == 1, down
        assert "not counted, the cache is unreachable" in down[0]

        redis_server.start()
        deadline = time.monotonic() + 30
        while "Too many failed sign-in attempts" not in log_in(client, owner.email, "x").text:
            assert time.monotonic() < deadline, "failures are not counted again"
    assert outage_lines(caplog)[1:] == ["rate limits are counted again: the cache answers"]


def test_the_billing_page_shows_while_redis_is_down(
    tenant_a, owner, tenant_client, redis_server, monkeypatch, caplog
):
    # The count of open visitor sockets that a worker keeps in Redis.
    monkeypatch.setattr(process_counters, "connections", RedisConnectionCounter(redis_server.url))
    redis_server.kill()
    with caplog.at_level("WARNING", logger="tenants.billing.connection_counter"):
        page = tenant_client(tenant_a, owner).get("/billing/")
    assert page.status_code == 200
    shown = re.search(
        r'data-usage="Visitors connected now">.*?<span class="usage-numbers">([^<]*)</span>',
        page.content.decode(),
        re.S,
    )
    assert shown is not None
    assert shown.group(1).startswith("unknown now")
    assert "open visitor sockets not counted, Redis is unreachable" in caplog.text
