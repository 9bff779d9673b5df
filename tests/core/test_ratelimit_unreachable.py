"""Rate limits when their store (Redis) cannot be reached: requests go through, with a warning."""

import pytest
from django.test import override_settings

from core.errors import RateLimited
from core.ratelimit import rate_limit_hit

UNREACHABLE = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "unix:///nonexistent/parley-redis.sock",
    }
}


@override_settings(CACHES=UNREACHABLE)
def test_an_unreachable_cache_lets_requests_through_and_says_so(caplog):
    with caplog.at_level("WARNING", logger="core.ratelimit"):
        for _ in range(3):  # over the limit of 1, were it counted
            rate_limit_hit(scope="test", who="someone", limit=1, window_seconds=60)
    assert "rate limit test not counted, the cache is unreachable" in caplog.text


def test_a_reachable_cache_still_counts():
    for _ in range(2):
        rate_limit_hit(scope="test", who="counted", limit=2, window_seconds=60)
    with pytest.raises(RateLimited):
        rate_limit_hit(scope="test", who="counted", limit=2, window_seconds=60)
