"""Rate limits when their store (Redis) cannot be reached: requests go through, with a warning."""

import pytest
from django.test import override_settings

from core.errors import RateLimited
from core.ratelimit import CacheWindow

UNREACHABLE = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "unix:///nonexistent/parley-redis.sock",
    }
}


@override_settings(CACHES=UNREACHABLE)
def test_an_unreachable_cache_lets_requests_through_and_says_so(caplog):
    window = CacheWindow("test", limit=1, window_seconds=60)
    with caplog.at_level("WARNING", logger="core.ratelimit"):
        for _ in range(3):  # over the limit of 1, were it counted
            window.take("someone")
        assert window.retry_after("someone") == 0
        window.reset("someone")
    assert "rate limit test not counted, the cache is unreachable" in caplog.text


def test_a_reachable_cache_still_counts():
    window = CacheWindow("test", limit=2, window_seconds=60)
    for _ in range(2):
        window.take("counted")
    with pytest.raises(RateLimited) as refused:
        window.take("counted")
    assert 1 <= refused.value.retry_after <= 60
