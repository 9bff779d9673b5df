"""Batched message writes for the sockets: one transaction for the messages that arrive while the
database is busy.

Every socket's DB work runs on one shared database thread, and each commit waits for the disk.
Storing messages one transaction each caps a worker at the disk's flush rate; here a socket
queues its message and awaits the answer, and one task takes everything queued so far, stores it
with `widget.services.messages.message_post_many` (one transaction per tenant in the batch) and
answers each socket. Under light load a batch is one message and nothing waits; under heavy load
batches grow and the cost of a commit is shared. An `ack` still means stored: it is sent after the
commit.

One message must not cost the others of its batch: when a batch is refused for one of its
messages (a plan limit, an erased conversation, a row PostgreSQL refuses), its halves are stored
apart until the offender is alone; only its sender gets the `error`.
"""

import asyncio
import contextlib
import logging
from collections import deque
from dataclasses import dataclass

from django.db import DataError

from core import drain, metrics
from core.db_thread import in_tenant
from core.errors import BadRequest, ParleyError, Unavailable
from widget.models import Message
from widget.services.messages import MessagePost, message_post_many

log = logging.getLogger(__name__)

MAX_BATCH = 200


@dataclass
class _Queued:
    schema_name: str
    tenant_id: int
    post: MessagePost
    answer: asyncio.Future


class MessageWriter:
    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue: deque[_Queued] = deque()
        self._ready: asyncio.Event | None = None
        self._task: asyncio.Task | None = None
        # Messages queued and answered since the start: a drain waits for those queued before it.
        self._queued_total = 0
        self._answered_total = 0

    def _bind(self) -> None:
        loop = asyncio.get_running_loop()
        if self._loop is loop and self._task is not None and not self._task.done():
            return
        self._loop = loop
        self._queue.clear()
        self._queued_total = self._answered_total = 0
        self._ready = asyncio.Event()
        self._task = loop.create_task(self._write_forever(), name="message-writer")

    async def post(
        self, *, schema_name: str, tenant_id: int, post: MessagePost
    ) -> tuple[Message, bool]:
        """Store the message (in a batch) and return (message, created) once committed."""
        self._bind()
        answer = self._loop.create_future()
        self._queue.append(_Queued(schema_name, tenant_id, post, answer))
        self._queued_total += 1
        self._ready.set()
        return await answer

    async def _write_forever(self) -> None:
        while True:
            await self._ready.wait()
            self._ready.clear()
            while self._queue:
                count = min(len(self._queue), MAX_BATCH)
                batch = [self._queue.popleft() for _ in range(count)]
                by_tenant: dict[tuple[str, int], list[_Queued]] = {}
                for queued in batch:
                    by_tenant.setdefault((queued.schema_name, queued.tenant_id), []).append(queued)
                for (schema_name, tenant_id), queued in by_tenant.items():
                    await self._write(schema_name, tenant_id, queued)
                self._answered_total += count

    async def _write(self, schema_name: str, tenant_id: int, queued: list[_Queued]) -> None:
        try:
            answers = await in_tenant(
                schema_name,
                message_post_many,
                tenant_id=tenant_id,
                posts=[item.post for item in queued],
            )
        except Unavailable as error:
            # A lock or statement past its timeout concerns the whole batch, not one message:
            # storing halves apart would wait out the timeout again for each.
            for item in queued:
                if not item.answer.done():
                    item.answer.set_exception(error)
            return
        except (ParleyError, DataError) as error:
            if len(queued) > 1:
                # A refusal (a plan limit, an erased conversation) or a row PostgreSQL refuses (a
                # NUL in a text) concerns some message of the batch, and rolled back all of it:
                # store each half apart until the offender is alone, and refuse only that one.
                middle = len(queued) // 2
                await self._write(schema_name, tenant_id, queued[:middle])
                await self._write(schema_name, tenant_id, queued[middle:])
                return
            if not queued[0].answer.done():
                queued[0].answer.set_exception(_refusal(error))
            return
        except Exception as error:
            metrics.backend_error(error)
            for item in queued:
                if not item.answer.done():
                    item.answer.set_exception(error)
            return
        for item, answer in zip(queued, answers, strict=True):
            if not item.answer.done():
                item.answer.set_result(answer)

    async def drain(self, close_code: int) -> None:
        """core.drain: store what is queued now (its sockets get their `ack`); messages that
        keep arriving do not hold the drain: their clients resend them to another worker."""
        target = self._queued_total
        while self._answered_total < target and self._task is not None and not self._task.done():
            await asyncio.sleep(0.01)

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._task = None
        self._loop = None


def _refusal(error: ParleyError | DataError) -> ParleyError:
    """What the sender of a refused message is told: a data error is the message's own fault
    (its sender gets `bad_request`, the socket stays open), not the database's."""
    if isinstance(error, ParleyError):
        return error
    log.info("a message PostgreSQL refuses was not stored: %s", error)
    return BadRequest("This message holds characters that cannot be stored.")


writer = MessageWriter()
drain.register(writer, stage=drain.WRITES)
