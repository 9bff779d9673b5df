"""Fixed-window attempt counters in Django's cache: login failures, signups, password resets.

The cache is Redis when `REDIS_URL` is set, so every worker counts into the same window; with a
single process it is local memory. A counter is created with the window as its lifetime, so the
window starts at the first attempt and the counter disappears when it ends.
"""

import hashlib
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache


@dataclass(frozen=True)
class Throttle:
    """At most `limit` attempts per `window` seconds for each key of one `scope`."""

    scope: str
    limit: int
    window: int

    def _keys(self, key: str) -> tuple[str, str]:
        digest = hashlib.sha256(key.encode()).hexdigest()[:32]  # emails and addresses, hashed
        base = f"parley:throttle:{self.scope}:{digest}"
        return base, base + ":until"

    def retry_after(self, key: str) -> int:
        """Seconds until the next attempt is allowed; 0 when it is allowed now."""
        count_key, until_key = self._keys(key)
        if (cache.get(count_key) or 0) < self.limit:
            return 0
        until = cache.get(until_key) or 0
        return max(1, int(until - time.time()))

    def hit(self, key: str) -> None:
        """Count one attempt."""
        count_key, until_key = self._keys(key)
        if cache.add(count_key, 1, timeout=self.window):
            cache.set(until_key, time.time() + self.window, timeout=self.window)
            return
        try:
            cache.incr(count_key)
        except ValueError:  # the window ended between add() and incr()
            self.hit(key)

    def reset(self, key: str) -> None:
        cache.delete_many(self._keys(key))


def login_throttle() -> Throttle:
    limit, window = settings.LOGIN_FAILURE_LIMIT
    return Throttle("login", limit, window)


def login_address_throttle() -> Throttle:
    limit, window = settings.LOGIN_ADDRESS_FAILURE_LIMIT
    return Throttle("login-address", limit, window)


def signup_throttle() -> Throttle:
    limit, window = settings.SIGNUP_RATE_LIMIT
    return Throttle("signup", limit, window)


def password_reset_throttle() -> Throttle:
    limit, window = settings.PASSWORD_RESET_RATE_LIMIT
    return Throttle("password-reset", limit, window)


def client_address(request) -> str:
    """The client's IP address: the socket's, or the one the trusted proxies say they saw."""
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies:
        forwarded = [
            part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        ]
        if len(forwarded) >= proxies and forwarded[-proxies]:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR", "")


def wait_phrase(seconds: int) -> str:
    """ "30 seconds", "4 minutes": how long a throttled user must wait, for a message."""
    if seconds < 90:
        return f"{seconds} seconds"
    return f"{(seconds + 59) // 60} minutes"
