"""Rate limits, and the client address that the per-address ones count by.

`client_address(request_or_scope)`
    The one rule for "who is this client": the socket's address, or behind
    `TRUSTED_PROXY_COUNT` reverse proxies (nginx, a load balancer) the N-th address from the right
    of `X-Forwarded-For`, the one the outermost trusted proxy appended and a client cannot forge.
    It reads a Django request (the HTTP APIs, the dashboard) and an ASGI scope (the sockets) alike;
    django-ipware parses the header.

`CacheWindow(scope, limit, window_seconds)`: a count shared by every process
    At most `limit` hits per window for each `who` of one scope, counted in Django's cache (Redis
    across processes, local memory for one). The window starts at the first hit: its counter is
    created with the window as its lifetime and incremented atomically (`cache.incr` is atomic in
    Redis and in the local-memory cache), so concurrent workers never lose a count. `take(who)`
    counts a request and raises `RateLimited` past the limit (the APIs); `retry_after`, `hit` and
    `reset` let a form count only failed attempts (the dashboard's sign-in). When the cache cannot
    be reached (Redis restarting), nothing is counted: a limit that cannot be counted must not
    turn every request into a 500. Nor may it make every request wait for the cache's timeout (a
    hung Redis: 2 s a call, and a sign-in makes four), or log a line per call: after a failure the
    windows of this process leave the cache alone for `RATELIMIT_CACHE_RETRY_SECONDS`, then try
    again, and the outage is logged once when it starts and once when it ends.

`TokenBucket(rate, burst)` and `SharedBuckets`: frames of one socket, in process memory
    A bucket holds up to `burst` tokens and refills at `rate` tokens a second; each frame takes
    one. Sockets check a frame in microseconds on the event loop, with no lock and no round trip:
    a bucket per connection, and one shared by every socket under the same key (a visitor's tabs),
    which lives as long as one of those sockets does.

`OpenCounts`: what each key holds open in this process (sockets per address), with a limit.
"""

import hashlib
import logging
import math
import time
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any

import redis
from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from ipware import get_client_ip

from core.caches import ProcessCache
from core.errors import RateLimited

log = logging.getLogger(__name__)

_CACHE_UNREACHABLE = (redis.RedisError, OSError)
# "away": the cache failed a moment ago (skip it until the entry expires); "reported": the outage
# was logged (until the cache answers again).
_cache_outage: ProcessCache[str, bool] = ProcessCache("ratelimit-cache-outage", maxsize=2, ttl=3600)


# --- Who the client is ------------------------------------------------------------------------


def client_address(source: HttpRequest | Mapping[str, Any]) -> str:
    """The client's IP address, from a Django request or an ASGI scope (see the module docstring).

    Behind proxies, a request whose header lists fewer addresses than there are proxies did not
    come through all of them: it is counted by the socket's address."""
    request = source if isinstance(source, HttpRequest) else _request_of_scope(source)
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies:
        # ipware counts the proxies listed in the header before the client's address; the nearest
        # proxy is the socket's peer and lists itself nowhere. Not strict: a longer header is a
        # client's forged prefix, which the count from the right skips.
        address, _routable = get_client_ip(
            request,
            proxy_count=proxies - 1,
            request_header_order=("HTTP_X_FORWARDED_FOR",),
            strict=False,
        )
    else:
        address, _routable = get_client_ip(request, request_header_order=("REMOTE_ADDR",))
    return address or request.META.get("REMOTE_ADDR", "")


def _request_of_scope(scope: Mapping[str, Any]) -> HttpRequest:
    """The request metadata of an ASGI scope that `client_address` reads, named as Django does."""
    request = HttpRequest()
    if client := scope.get("client"):
        request.META["REMOTE_ADDR"] = client[0]
    forwarded = [
        value.decode("latin-1")
        for name, value in scope.get("headers", ())
        if name == b"x-forwarded-for"
    ]
    if forwarded:
        request.META["HTTP_X_FORWARDED_FOR"] = ",".join(forwarded)
    return request


# --- Windows counted in the shared cache ------------------------------------------------------


@dataclass(frozen=True)
class CacheWindow:
    """At most `limit` hits per `window_seconds` for each `who` of one `scope`."""

    scope: str
    limit: int
    window_seconds: int

    def _keys(self, who: str) -> tuple[str, str]:
        digest = hashlib.sha256(who.encode()).hexdigest()[:32]  # emails and addresses, hashed
        base = f"parley:ratelimit:{self.scope}:{digest}"
        return base, base + ":until"

    def _cached(self, operation, default):
        """`operation()`, which uses the cache, or `default` while the cache is unreachable."""
        if _cache_outage.get("away"):
            return default
        try:
            answer = operation()
        except _CACHE_UNREACHABLE as error:
            _cache_outage.set("away", True, ttl=settings.RATELIMIT_CACHE_RETRY_SECONDS)
            if not _cache_outage.get("reported"):
                _cache_outage.set("reported", True)
                log.warning(
                    "rate limit %s not counted, the cache is unreachable: %s; nothing is "
                    "counted until it answers again",
                    self.scope,
                    error,
                )
            return default
        if _cache_outage.get("reported"):
            _cache_outage.pop("reported")
            log.info("rate limits are counted again: the cache answers")
        return answer

    def take(self, who: str) -> None:
        """Count one request of `who`; raise `RateLimited` once the limit is passed."""
        if self.hit(who) > self.limit:
            raise RateLimited(retry_after=self._seconds_left(who))

    def retry_after(self, who: str) -> int:
        """Seconds until `who` may be counted again; 0 while under the limit."""
        count_key, _until_key = self._keys(who)
        if (self._cached(lambda: cache.get(count_key), None) or 0) < self.limit:
            return 0
        return self._seconds_left(who)

    def hit(self, who: str) -> int:
        """Count one hit of `who`; returns the count in this window (0 when not counted)."""
        return self._cached(lambda: self._count(who), 0)

    def _count(self, who: str) -> int:
        count_key, until_key = self._keys(who)
        if cache.add(count_key, 1, timeout=self.window_seconds):
            cache.set(until_key, time.time() + self.window_seconds, timeout=self.window_seconds)
            return 1
        try:
            return cache.incr(count_key)
        except ValueError:  # the window ended between add() and incr(): this hit starts one
            return self._count(who)

    def reset(self, who: str) -> None:
        """Forget the hits of `who` in this window."""
        self._cached(lambda: cache.delete_many(self._keys(who)), None)

    def _seconds_left(self, who: str) -> int:
        _count_key, until_key = self._keys(who)
        now = time.time()
        until = self._cached(lambda: cache.get(until_key), None) or now + self.window_seconds
        return max(1, math.ceil(until - now))


# --- Frames of the sockets, in process memory -------------------------------------------------


@dataclass
class TokenBucket:
    rate: float
    burst: float
    tokens: float = -1.0
    updated_at: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        if self.tokens < 0:
            self.tokens = self.burst

    def take(self, now: float | None = None) -> float:
        """Take a token: 0.0 when granted, else the seconds until one is available."""
        now = time.monotonic() if now is None else now
        self.tokens = min(self.burst, self.tokens + (now - self.updated_at) * self.rate)
        self.updated_at = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate


def retry_after_seconds(wait: float) -> int:
    """The `retry_after` of an error frame: whole seconds, at least one."""
    return max(1, math.ceil(wait))


@dataclass
class SharedBucket:
    """What the sockets of one key share in this process: a frame bucket and their count."""

    bucket: TokenBucket
    connections: int = 0


class SharedBuckets:
    """The shared buckets of this process by key. Used on the event loop only: no lock."""

    def __init__(self) -> None:
        self._shares: dict[Hashable, SharedBucket] = {}

    def enter(self, key: Hashable, *, rate: float, burst: float) -> SharedBucket:
        share = self._shares.get(key)
        if share is None:
            share = self._shares[key] = SharedBucket(bucket=TokenBucket(rate=rate, burst=burst))
        share.connections += 1
        return share

    def leave(self, key: Hashable) -> None:
        share = self._shares.get(key)
        if share is not None:
            share.connections -= 1
            if share.connections <= 0:
                del self._shares[key]

    def connections(self, key: Hashable) -> int:
        share = self._shares.get(key)
        return share.connections if share else 0


class OpenCounts:
    """How many of something each key holds open in this process (the sockets of an address),
    each key at most `limit` at a time. Used on the event loop only: no lock."""

    def __init__(self) -> None:
        self._open: dict[Hashable, int] = {}

    def try_enter(self, key: Hashable, limit: int) -> bool:
        current = self._open.get(key, 0)
        if current >= limit:
            return False
        self._open[key] = current + 1
        return True

    def leave(self, key: Hashable) -> None:
        remaining = self._open.get(key, 0) - 1
        if remaining > 0:
            self._open[key] = remaining
        else:
            self._open.pop(key, None)

    def count(self, key: Hashable) -> int:
        return self._open.get(key, 0)
