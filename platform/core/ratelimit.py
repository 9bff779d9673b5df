"""Request rate limits kept in Django's cache (Redis across processes, memory for one process).

A fixed window per (scope, who): the first hit of a window creates its counter, every hit
increments it atomically (`cache.incr` is atomic in Redis and in the local-memory cache), so
concurrent workers never lose a count the way a read-modify-write history would. Over the limit,
`RateLimited` says how many seconds remain in the window.

When the cache cannot be reached (Redis restarting), requests are let through and a warning is
logged: a limit that cannot be counted must not turn every request into a 500.
"""

import logging
import math
import time

import redis
from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

from core.errors import RateLimited

log = logging.getLogger(__name__)


def rate_limit_hit(*, scope: str, who: str, limit: int, window_seconds: int) -> None:
    """Count one request of `who` in `scope`; raise RateLimited once `limit` is passed."""
    now = time.time()
    window = int(now // window_seconds)
    key = f"ratelimit:{scope}:{who}:{window}"
    try:
        cache.add(key, 0, timeout=window_seconds + 1)
        try:
            count = cache.incr(key)
        except ValueError:  # the counter expired between add and incr: this hit starts a new one
            cache.add(key, 1, timeout=window_seconds + 1)
            count = 1
    except (redis.RedisError, OSError) as error:
        log.warning("rate limit %s not counted, the cache is unreachable: %s", scope, error)
        return
    if count > limit:
        retry_after = max(1, math.ceil((window + 1) * window_seconds - now))
        raise RateLimited(retry_after=retry_after)


def client_ip(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, or behind N trusted proxies (nginx) the N-th address
    from the right of X-Forwarded-For, which the nearest proxy appended and a client cannot
    forge."""
    proxies = settings.TRUSTED_PROXY_COUNT
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies and forwarded:
        addresses = [address.strip() for address in forwarded.split(",")]
        return addresses[-min(proxies, len(addresses))]
    return request.META.get("REMOTE_ADDR", "")
