"""Process caches: bounded, expiring, and all emptied at once through their registry."""

import itertools

import pytest

from core import caches
from core.caches import MISSING, ProcessCache

_names = (f"test-cache-{n}" for n in itertools.count())


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def test_an_entry_lives_for_the_ttl_or_its_own(clock):
    cache = ProcessCache(next(_names), maxsize=10, ttl=30, timer=clock)
    cache.set("site", "cached")
    cache.set("graced", "shorter", ttl=5)
    clock.now += 6
    assert cache.get("site") == "cached"
    assert cache.get("graced") is None
    clock.now += 25
    assert cache.get("site") is None


def test_a_cached_none_is_told_from_a_missing_entry(clock):
    cache = ProcessCache(next(_names), maxsize=10, ttl=30, timer=clock)
    cache.set("unknown key", None)
    assert cache.get("unknown key", MISSING) is None
    assert cache.get("never asked", MISSING) is MISSING


def test_get_or_load_loads_once_per_lifetime(clock):
    cache = ProcessCache(next(_names), maxsize=10, ttl=30, timer=clock)
    loads = []

    def load() -> str:
        loads.append(1)
        return "row"

    assert cache.get_or_load("key", load) == "row"
    assert cache.get_or_load("key", load) == "row"
    assert len(loads) == 1
    clock.now += 31
    cache.get_or_load("key", load)
    assert len(loads) == 2


def test_the_cache_holds_at_most_maxsize_entries(clock):
    cache = ProcessCache(next(_names), maxsize=2, ttl=30, timer=clock)
    for key in ("a", "b", "c"):
        cache.set(key, key)
    assert [cache.get(key) for key in ("a", "b", "c")].count(None) == 1


def test_entries_are_dropped_by_key_or_by_what_they_hold(clock):
    cache = ProcessCache(next(_names), maxsize=10, ttl=30, timer=clock)
    for key, site_id in (("pk_1", 1), ("pk_2", 1), ("pk_3", 2)):
        cache.set(key, site_id)
    cache.pop("pk_3")
    cache.pop("never cached")
    assert cache.get("pk_3") is None
    cache.pop_where(lambda _key, site_id: site_id == 1)
    assert cache.get("pk_1") is None
    assert cache.get("pk_2") is None


def test_clear_all_empties_every_registered_cache(clock):
    first = ProcessCache(next(_names), maxsize=10, ttl=30, timer=clock)
    second = ProcessCache(next(_names), maxsize=10, ttl=30, timer=clock)
    first.set("a", 1)
    second.set("b", 2)
    caches.clear_all()
    assert first.get("a") is None
    assert second.get("b") is None


def test_two_caches_cannot_share_a_name():
    name = next(_names)
    ProcessCache(name, maxsize=1, ttl=1)
    with pytest.raises(ValueError, match="already exists"):
        ProcessCache(name, maxsize=1, ttl=1)
