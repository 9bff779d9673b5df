"""Readiness checks: can this process reach what it needs to serve traffic?

core knows the database and the channel layer; an app adds what only it knows with
`register_check` (the widget app: its fan-out subscription, widget/apps.py).
"""

import asyncio
import uuid
from collections.abc import Callable

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import connection

from core import metrics
from core.drain import is_draining


def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


async def _layer_round_trip() -> None:
    layer = get_channel_layer()
    channel = await layer.new_channel(prefix="readyz")
    token = uuid.uuid4().hex
    await layer.send(channel, {"type": "readyz.ping", "token": token})
    message = await asyncio.wait_for(layer.receive(channel), timeout=2)
    if message.get("token") != token:
        raise RuntimeError("channel layer returned another message")


def check_channel_layer() -> None:
    async_to_sync(_layer_round_trip)()


CHECKS: dict[str, Callable[[], None]] = {
    "database": check_database,
    "channel_layer": check_channel_layer,
}
BACKENDS = {"database": "database", "channel_layer": "redis"}


def register_check(name: str, check: Callable[[], None], *, backend: str) -> None:
    """Make /readyz run `check` (it raises when not ready; it runs on an HTTP thread) under
    `name`; a failure counts in `parley_backend_errors_total{backend}`."""
    CHECKS[name] = check
    BACKENDS[name] = backend


def failing_checks() -> dict[str, str]:
    """Run every check; return the failing ones with the reason, empty when all pass."""
    failures = {}
    if is_draining():
        failures["worker"] = "draining: shutting down, send new connections elsewhere"
    for name, check in CHECKS.items():
        try:
            check()
        except Exception as error:  # any failure means "not ready"
            failures[name] = f"{type(error).__name__}: {error}".strip()[:300]
            metrics.BACKEND_ERRORS.labels(BACKENDS[name]).inc()
    if "database" in failures:
        connection.close()  # a broken connection must not be reused once the database is back
    return failures
