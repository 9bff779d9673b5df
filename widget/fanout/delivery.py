"""Local delivery: one task on the event loop writes each group message to the group's members in
this process, in the order the messages were published or received.

One task, not one per member: the frame arrives serialized, so a delivery is a `push` of the
same text to each member socket (`Member.push` must not wait on the network). A member whose
push fails is logged and skipped; the others still get the frame.
"""

import asyncio
import contextlib
import logging
import time
from collections import deque

from core import metrics
from widget.fanout.envelope import FRAME, Envelope
from widget.fanout.members import Registry

log = logging.getLogger(__name__)


class Delivery:
    """The queue of group messages waiting for this process's members, and its task."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self._pending: deque[Envelope] = deque()
        self._pending_ready: asyncio.Event | None = None
        self._task: asyncio.Task | None = None

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        """Start the task on `loop` (whatever was queued for an earlier loop is dropped)."""
        self._pending.clear()
        self._pending_ready = asyncio.Event()
        self._task = loop.create_task(self._deliver_forever(), name="fanout-deliver")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._task = None
        self._pending.clear()

    def queue(self, envelope: Envelope) -> None:
        """Deliver the envelope to its group's members here, if the group has any. On the loop."""
        if envelope.group in self.registry:
            self._pending.append(envelope)
            self._pending_ready.set()

    async def idle(self) -> None:
        """Wait until every group message queued so far has been written to its members."""
        while self._pending:
            await asyncio.sleep(0.005)

    async def close_all(self, code: int) -> None:
        """Close every member socket of this process with `code`, all at once: each sends its
        close before its cleanup awaits anything (a Redis that is away, say), so no socket waits
        for another's cleanup."""
        members = list(self.registry.everyone())
        outcomes = await asyncio.gather(
            *(member.close_from_server(code) for member in members), return_exceptions=True
        )
        for outcome in outcomes:
            if not isinstance(outcome, Exception):
                continue
            if backend := metrics.backend_error(outcome):
                log.warning("fan-out: a closed socket's cleanup failed (%s): %s", backend, outcome)
            else:
                log.error("fan-out: closing one socket failed", exc_info=outcome)

    async def _deliver_forever(self) -> None:
        while True:
            await self._pending_ready.wait()
            self._pending_ready.clear()
            while self._pending:
                await self._deliver(self._pending.popleft())

    async def _deliver(self, envelope: Envelope) -> None:
        if envelope.kind == FRAME:
            metrics.FANOUT_SECONDS.observe(max(0.0, time.time() - envelope.published_at))
        for member in self.registry.members_of(envelope.group):
            if member.member_id == envelope.exclude:
                continue
            try:
                if envelope.kind == FRAME:
                    await member.push(envelope.body, envelope.message_id, envelope.frame_type)
                else:
                    await member.close_from_server(int(envelope.body))
            except Exception:
                log.exception("fan-out: delivery to one socket failed")
