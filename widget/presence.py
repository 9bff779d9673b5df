"""Agent presence: which agents of a tenant are connected right now?

Each process counts its own agent sockets per tenant and member. With Redis
(`PARLEY_FANOUT=redis`) every process that holds a member's socket also keeps a field in the
Redis hash `parley:agents:t<tenant>` (field: `<process>|<member id>`, value: a unix time it
vouches until), refreshed every `PRESENCE_TTL / 3` seconds. A process that dies stops
refreshing, and its fields count no more after `PRESENCE_TTL` seconds.

`agents_online(tenant_id)` (is anyone there? the session endpoint asks) answers from this
process's count when it can, else with one Redis round trip; `agents_online_ids(tenant_id)`
(who? round-robin assignment asks) always with one round trip when Redis is there. Both are
sync.
"""

import asyncio
import contextlib
import logging
import time
from collections import Counter

from widget.fanout.hub import hub

log = logging.getLogger(__name__)

PRESENCE_TTL = 60
_local: Counter[tuple[int, str]] = Counter()  # (tenant id, member id) -> this process's sockets
_local_tenants: Counter[int] = Counter()
_refresher: asyncio.Task | None = None


def _key(tenant_id: int) -> str:
    return f"parley:agents:t{tenant_id}"


def _field(member_id: str) -> str:
    return f"{hub.origin}|{member_id}"


def _vouched(tenant_id: int) -> dict[str, float] | None:
    """The hash's live fields, or None without Redis (or when it cannot be reached)."""
    client = hub.transport.redis_sync()
    if client is None:
        return None
    try:
        fields = client.hgetall(_key(tenant_id))
    except Exception:
        log.warning("presence: Redis unreachable; reporting agents offline", exc_info=True)
        return None
    now = time.time()
    return {
        (name.decode() if isinstance(name, bytes) else name): float(until)
        for name, until in fields.items()
        if float(until) > now
    }


def agents_online(tenant_id: int) -> bool:
    if _local_tenants[tenant_id] > 0:
        return True
    return bool(_vouched(tenant_id))


def agents_online_ids(tenant_id: int) -> set[int]:
    """The ids of the tenant's members with an agent socket open in any process."""
    local = {int(member) for (tenant, member), count in _local.items() if tenant == tenant_id}
    vouched = _vouched(tenant_id)
    if vouched is None:
        return local
    return local | {int(name.rpartition("|")[2]) for name in vouched}


async def agent_connected(tenant_id: int, member_id: str) -> bool:
    """Count one more socket of the member; True when it is their first in this process."""
    _local[(tenant_id, member_id)] += 1
    _local_tenants[tenant_id] += 1
    first = _local[(tenant_id, member_id)] == 1
    if first:
        await _vouch([(tenant_id, member_id)])
    _ensure_refresher()
    return first


async def agent_disconnected(tenant_id: int, member_id: str) -> bool:
    """Count one socket of the member less; True when it was their last in this process."""
    _local[(tenant_id, member_id)] -= 1
    _local_tenants[tenant_id] -= 1
    if _local_tenants[tenant_id] <= 0:
        del _local_tenants[tenant_id]
    if _local[(tenant_id, member_id)] <= 0:
        del _local[(tenant_id, member_id)]
        client = hub.transport.redis_async()
        if client is not None:
            with contextlib.suppress(Exception):
                await client.hdel(_key(tenant_id), _field(member_id))
        return True
    return False


async def _vouch(members: list[tuple[int, str]]) -> None:
    client = hub.transport.redis_async()
    if client is None or not members:
        return
    until = time.time() + PRESENCE_TTL
    try:
        async with client.pipeline(transaction=False) as pipe:
            for tenant_id, member_id in members:
                pipe.hset(_key(tenant_id), _field(member_id), until)
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
