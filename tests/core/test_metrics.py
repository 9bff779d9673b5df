"""What counts as a backend error, and the cached label children of the hot paths."""

import redis
from django.db import OperationalError

from core import metrics


def count(backend: str) -> float:
    return metrics.BACKEND_ERRORS.labels(backend)._value.get()


def test_database_and_redis_errors_are_counted_apart_and_nothing_else():
    before = {backend: count(backend) for backend in ("database", "redis")}
    metrics.backend_error(OperationalError("server closed the connection"))
    metrics.backend_error(redis.ConnectionError("Connection refused"))
    metrics.backend_error(redis.TimeoutError("Timeout reading"))
    metrics.backend_error(ValueError("a bug, not a backend"))
    assert count("database") == before["database"] + 1
    assert count("redis") == before["redis"] + 2


def test_children_resolve_each_label_once():
    children = metrics.Children(metrics.FRAMES_IN, "chat")
    assert children["ping"] is children["ping"]
    assert children["ping"] is metrics.FRAMES_IN.labels("chat", "ping")
    before = children["ping"]._value.get()
    children["ping"].inc()
    assert metrics.FRAMES_IN.labels("chat", "ping")._value.get() == before + 1
