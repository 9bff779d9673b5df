"""Graceful shutdown of a worker: stop taking sockets, hand the open ones to other workers.

On SIGTERM (core/serve.py, the one shutdown path) the worker stops listening and enters the
draining state: /readyz answers 503 so the load balancer stops sending new connections, new
handshakes are refused, and the registered drainables run in stage order:

1. `WRITES`: the message writer stores what it has queued, so every message a client sent
   before the close is committed and acknowledged (`ack` means stored);
2. `SOCKETS`: the fan-out hub closes every socket with 1012 ("service restart"), on which
   widgets reconnect at once to another worker and resume with `since`;
3. `WRITES` again (`after`): a message that raced the close is committed; its client did not see
   the `ack` and resends it with the same `client_id`, which is stored once;
4. `PUBLICATIONS`: the fan-out sends what those last writes published to Redis, so the sockets of
   other workers (which do not resume) see them live.
"""

import asyncio
import logging
from typing import Protocol

SERVICE_RESTART = 1012
WRITES = 0
SOCKETS = 1
PUBLICATIONS = 2
# Even past the deadline (a stuck database), every stage still gets this long: the sockets must
# be closed with 1012 whatever the writes do.
MIN_STAGE_SECONDS = 1.0
logger = logging.getLogger(__name__)


class Drainable(Protocol):
    async def drain(self, close_code: int) -> None: ...


_stages: dict[int, list[Drainable]] = {}
_draining = False


def register(member: Drainable, *, stage: int) -> None:
    """Register a process-wide drainable (the writer, the hub); idempotent."""
    members = _stages.setdefault(stage, [])
    if member not in members:
        members.append(member)


def is_draining() -> bool:
    return _draining


async def _run(members: list[Drainable], deadline: float) -> None:
    timeout = max(MIN_STAGE_SECONDS, deadline - asyncio.get_running_loop().time())
    tasks = [asyncio.ensure_future(member.drain(SERVICE_RESTART)) for member in members]
    done, pending = await asyncio.wait(tasks, timeout=timeout)
    for task in done:
        if task.exception() is not None:
            logger.warning("draining failed: %r", task.exception())
    for task in pending:
        task.cancel()
    if pending:
        logger.warning("%d drainables did not finish within the drain time", len(pending))


async def drain_all(*, timeout: float) -> None:
    """Enter the draining state and run every stage, all within `timeout` seconds."""
    global _draining
    _draining = True
    deadline = asyncio.get_running_loop().time() + timeout
    for stage in (WRITES, SOCKETS, WRITES, PUBLICATIONS):
        if stage in _stages:
            await _run(_stages[stage], deadline)
