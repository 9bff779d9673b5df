"""Process-memory caches of rows the hot paths read (sites, tenants, plans, webhook subscriptions).

`ProcessCache(name, maxsize=..., ttl=...)` is a bounded, thread-safe cache whose entries live for
`ttl` seconds (or the `ttl` given to `set` for one entry): views run on request threads, sockets
on the event loop and the database thread, all reading the same cache. Every cache is registered
by name, so `clear_all()` empties them all at once: the test suite does it around each test,
because a rollback or a flush removes rows without the signals that invalidate their entries.

Invalidation stays with the data's owner: the module that caches a row also drops its entry when
the row changes in this process; other processes see the change within the cache's lifetime.
"""

import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from cachetools import TLRUCache

MISSING: Any = object()  # `get`'s default: tells "not cached" from a cached None

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


@dataclass(frozen=True)
class _Entry:
    value: Any
    ttl: float


class ProcessCache(Generic[K, V]):
    """A named cache of at most `maxsize` entries, each living `ttl` seconds unless told otherwise.

    The loader of `get_or_load` runs outside the lock (it reads the database): two threads
    missing the same key at once both load it, and the last one's answer stays, which is as
    fresh as the first's."""

    def __init__(
        self,
        name: str,
        *,
        maxsize: int,
        ttl: float,
        timer: Callable[[], float] = time.monotonic,
    ) -> None:
        if name in _registry:
            raise ValueError(f"a process cache named {name!r} already exists")
        self.name = name
        self.ttl = ttl
        self._lock = threading.Lock()
        self._entries: TLRUCache = TLRUCache(
            maxsize=maxsize, ttu=lambda _key, entry, now: now + entry.ttl, timer=timer
        )
        _registry[name] = self

    def get(self, key: K, default: Any = None) -> V | Any:
        with self._lock:
            entry = self._entries.get(key)
        return default if entry is None else entry.value

    def set(self, key: K, value: V, *, ttl: float | None = None) -> None:
        with self._lock:
            self._entries[key] = _Entry(value, self.ttl if ttl is None else ttl)

    def get_or_load(self, key: K, load: Callable[[], V]) -> V:
        """The cached value of `key`, or `load()`'s, cached for next time."""
        value = self.get(key, MISSING)
        if value is MISSING:
            value = load()
            self.set(key, value)
        return value

    def pop(self, key: K) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def pop_where(self, test: Callable[[K, V], bool]) -> None:
        """Drop every entry for which `test(key, value)` is true."""
        with self._lock:
            stale = [
                key
                for key in list(self._entries)
                if (entry := self._entries.get(key)) is not None and test(key, entry.value)
            ]
            for key in stale:
                self._entries.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


_registry: dict[str, ProcessCache] = {}


def clear_all() -> None:
    """Empty every process cache (the test suite, around each test)."""
    for process_cache in _registry.values():
        process_cache.clear()
