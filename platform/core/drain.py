"""Graceful shutdown of a worker: stop taking sockets, hand the open ones to other workers.

On SIGTERM (core/serve.py) the worker enters the draining state: /readyz answers 503 so the load
balancer stops sending new connections, new handshakes are refused, and every registered socket
is asked to drain: finish what it is writing, then close with 1012 ("service restart"), on which
widgets reconnect at once to another worker and resume with `since`. Nothing acknowledged is
lost because an `ack` is sent only after the message is stored.
"""

import asyncio
import logging
import weakref
from typing import Protocol

SERVICE_RESTART = 1012
logger = logging.getLogger(__name__)


class Drainable(Protocol):
    async def drain(self, close_code: int) -> None: ...


_members: "weakref.WeakSet[Drainable]" = weakref.WeakSet()
_draining = False


def register(member: Drainable) -> None:
    _members.add(member)


def unregister(member: Drainable) -> None:
    _members.discard(member)


def is_draining() -> bool:
    return _draining


async def drain_all(*, timeout: float) -> int:
    """Enter the draining state and close every registered socket; returns how many were open."""
    global _draining
    _draining = True
    members = list(_members)
    logger.info("draining %d sockets", len(members))
    if members:
        done, pending = await asyncio.wait(
            [asyncio.ensure_future(member.drain(SERVICE_RESTART)) for member in members],
            timeout=timeout,
        )
        for task in done:
            if task.exception() is not None:
                logger.warning("a socket failed to drain: %r", task.exception())
        if pending:
            logger.warning("%d sockets did not drain within %.0f s", len(pending), timeout)
    return len(members)
