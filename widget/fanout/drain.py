"""What the fan-out does when the worker stops (`core.drain`), in two of its stages.

`SOCKETS`: deliver what is waiting here, then close every socket of this worker with 1012 so
their clients reconnect at once to another worker. `PUBLICATIONS`, last: the group messages of
the writes stored during the drain reach Redis before the process stops, or the sockets of other
workers (which do not resume) would never see them.
"""

import asyncio
from typing import TYPE_CHECKING

from core import drain as worker_drain

if TYPE_CHECKING:
    from widget.fanout.hub import Hub

# How long the close frames get to reach the network before the reactor stops.
DRAIN_FLUSH_SECONDS = 0.5


class SocketsDrain:
    def __init__(self, hub: "Hub"):
        self.hub = hub

    async def drain(self, close_code: int) -> None:
        if not self.hub.running:
            return
        # First deliver what is waiting here, the writes just flushed among them: a client
        # resumes from the highest id it saw, so a lower id held back past the close would be
        # skipped by its resume.
        await self.hub.delivery.idle()
        await self.hub.close_all(close_code)
        await asyncio.sleep(DRAIN_FLUSH_SECONDS)


class PublicationsDrain:
    def __init__(self, hub: "Hub"):
        self.hub = hub

    async def drain(self, close_code: int) -> None:
        if self.hub.running:
            await self.hub.transport.flush()


def register(hub: "Hub") -> None:
    """Register the hub's two drainables with `core.drain`."""
    worker_drain.register(SocketsDrain(hub), stage=worker_drain.SOCKETS)
    worker_drain.register(PublicationsDrain(hub), stage=worker_drain.PUBLICATIONS)
