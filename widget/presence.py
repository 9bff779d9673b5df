"""Agent presence: is any agent of a tenant connected right now?

Each process counts its own agent sockets per tenant. With Redis (`PARLEY_FANOUT=redis`) every
process that holds an agent of a tenant also keeps a field in the Redis hash
`parley:agents:t<tenant>` (field: the process, value: a unix time it vouches until), refreshed
every `PRESENCE_TTL / 3` seconds. A process that dies stops refreshing, and its field counts no
more after `PRESENCE_TTL` seconds.

`agents_online(tenant_id)` is sync (the session endpoint calls it); it answers from this process's
count when it can, else with one Redis round trip.
"""

import asyncio
import contextlib
import logging
import time
from collections import Counter

from widget.fanout.hub import hub

log = logging.getLogger(__name__)

PRESENCE_TTL = 60
_local: Counter[int] = Counter()
_refresher: asyncio.Task | None = None


def _key(tenant_id: int) -> str:
    return f"parley:agents:t{tenant_id}"


def agents_online(tenant_id: int) -> bool:
    if _local[tenant_id] > 0:
        return True
    client = hub.transport.redis_sync()
    if client is None:
        return False
    try:
        vouched = client.hvals(_key(tenant_id))
    except Exception:
        log.warning("presence: Redis unreachable; reporting agents offline", exc_info=True)
        return False
    now = time.time()
    return any(float(until) > now for until in vouched)


async def agent_connected(tenant_id: int) -> None:
    _local[tenant_id] += 1
    if _local[tenant_id] == 1:
        await _vouch([tenant_id])
    _ensure_refresher()


async def agent_disconnected(tenant_id: int) -> None:
    _local[tenant_id] -= 1
    if _local[tenant_id] <= 0:
        del _local[tenant_id]
        client = hub.transport.redis_async()
        if client is not None:
            with contextlib.suppress(Exception):
                await client.hdel(_key(tenant_id), hub.origin)


async def _vouch(tenant_ids: list[int]) -> None:
    client = hub.transport.redis_async()
    if client is None or not tenant_ids:
        return
    until = time.time() + PRESENCE_TTL
    try:
        async with client.pipeline(transaction=False) as pipe:
            for tenant_id in tenant_ids:
                pipe.hset(_key(tenant_id), hub.origin, until)
                pipe.expire(_key(tenant_id), PRESENCE_TTL)
            await pipe.execute()
    except Exception:
        log.warning("presence: could not refresh agent presence in Redis", exc_info=True)


def _ensure_refresher() -> None:
    global _refresher
    loop = asyncio.get_running_loop()
    if _refresher is None or _refresher.done() or _refresher.get_loop() is not loop:
        _refresher = loop.create_task(_refresh_forever())


async def _refresh_forever() -> None:
    while _local:
        await asyncio.sleep(PRESENCE_TTL / 3)
        await _vouch(list(_local))
