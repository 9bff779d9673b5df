"""This process's plan-limit counters, and the background thread that keeps them.

`connections` counts open visitor sockets (through Redis when `REDIS_URL` is set, else in process
memory; `connection_counter.py`); `messages` counts monthly messages (`usage.py`). On first use
(`background_ensure()`), a daemon thread writes the message counts to the database and refreshes
this process's liveness in the connection count every `BILLING_USAGE_FLUSH_SECONDS` (10 s; none
when 0), and the counts are written once more at exit. `flush_usage()` writes them on demand.
"""

import atexit
import logging
import threading
import time

from django.conf import settings
from django.db import close_old_connections

from tenants.billing.connection_counter import ConnectionCounter, RedisConnectionCounter
from tenants.billing.usage import MessageCounter

logger = logging.getLogger(__name__)

connections: ConnectionCounter | RedisConnectionCounter = (
    RedisConnectionCounter(settings.REDIS_URL) if settings.REDIS_URL else ConnectionCounter()
)
messages = MessageCounter()


def flush_usage() -> int:
    """Write this process's message counts to the database now; returns how many were written."""
    return messages.flush()


_background: threading.Thread | None = None
_background_lock = threading.Lock()


def background_ensure() -> None:
    """On first use, start the thread that flushes message counts and keeps this process's
    connection counts alive."""
    global _background
    if _background is not None or settings.BILLING_USAGE_FLUSH_SECONDS <= 0:
        return
    with _background_lock:
        if _background is None:
            _background = threading.Thread(
                target=_background_forever,
                args=(settings.BILLING_USAGE_FLUSH_SECONDS,),
                name="parley-billing-counters",
                daemon=True,
            )
            _background.start()
            atexit.register(_flush_logged)


def _background_forever(interval: float) -> None:
    while True:
        time.sleep(interval)
        try:
            connections.heartbeat()
        except Exception:
            logger.exception("Refreshing this process's connection counts failed")
        _flush_logged()


def _flush_logged() -> None:
    try:
        flush_usage()
    except Exception:
        logger.exception("Writing message usage failed; the counts are kept for the next flush")
    finally:
        close_old_connections()
