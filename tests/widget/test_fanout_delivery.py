"""Closing every socket of the process (Redis lost, a drain) sends every close at once: a socket
whose cleanup waits (on a Redis that is away, say) does not hold back the others' closes."""

import asyncio

from widget.fanout.delivery import Delivery
from widget.fanout.members import Registry


class SlowToCleanUp:
    """A member that sends its close, then waits in its cleanup until told."""

    def __init__(self, name: str, closed: list[str], released: asyncio.Event):
        self.member_id = name
        self.closed = closed
        self.released = released

    async def push(self, text: str, message_id: int, frame_type: str) -> None:
        raise AssertionError("nothing is delivered here")

    async def close_from_server(self, code: int) -> None:
        self.closed.append(self.member_id)
        await self.released.wait()


async def test_every_socket_is_closed_without_waiting_for_another_to_clean_up():
    registry = Registry()
    closed: list[str] = []
    released = asyncio.Event()
    for n in range(10):
        registry.add(f"room-{n % 3}", SlowToCleanUp(f"socket-{n}", closed, released))
    closing = asyncio.create_task(Delivery(registry).close_all(1011))
    try:
        async with asyncio.timeout(10):
            while len(closed) < 10:
                await asyncio.sleep(0.01)
    finally:
        released.set()
        await closing
    assert sorted(closed) == sorted(f"socket-{n}" for n in range(10))
