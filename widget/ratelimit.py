"""Frame rate limits of the sockets: token buckets, per connection and per visitor.

A bucket holds up to `burst` tokens and refills at `rate` tokens a second; each frame takes one.
The per-visitor buckets are shared by every socket of that visitor in this process (several tabs
count together); they live as long as one of the visitor's sockets does. All of this runs on the
event loop, so no lock is needed.
"""

import math
import time
from dataclasses import dataclass, field


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
class VisitorShare:
    """What the sockets of one visitor in this process share: a frame bucket and a count."""

    bucket: TokenBucket
    connections: int = 0


class VisitorRegistry:
    def __init__(self) -> None:
        self._shares: dict[tuple[int, str], VisitorShare] = {}

    def enter(self, key: tuple[int, str], *, rate: float, burst: float) -> VisitorShare:
        share = self._shares.get(key)
        if share is None:
            share = self._shares[key] = VisitorShare(bucket=TokenBucket(rate=rate, burst=burst))
        share.connections += 1
        return share

    def leave(self, key: tuple[int, str]) -> None:
        share = self._shares.get(key)
        if share is not None:
            share.connections -= 1
            if share.connections <= 0:
                del self._shares[key]

    def connections(self, key: tuple[int, str]) -> int:
        share = self._shares.get(key)
        return share.connections if share else 0


visitors = VisitorRegistry()
