"""What enforcing the monthly message limit costs a message on the chat socket, in process.

Not part of the suite (the name does not match `test_*.py`); run it on an idle machine:

    .venv/bin/python -m pytest tests/widget/bench_limits_overhead.py -s

It prints two figures:
- the cost of the check itself (`MessageQuota(...).take(1)` as `message_post_many` runs it, warm
  caches), per message;
- a message through a real socket (`message` frame to `ack`, stored in PostgreSQL) with the check
  and with the check replaced by a no-op, in alternating rounds so that machine noise falls on
  both alike.

Measured on the 2-core development machine while other work loaded it (load average 4-5),
2026-11-24: the check takes 3.4 µs a message (200,000 checks); through the socket a message
took 10.0 ms with the check and 10.1 ms without it (medians of 6 rounds of 300; one commit per
message dominates), a difference of -1.4 %, inside the noise: the check costs about 0.03 % of a
message's round trip.
"""

import statistics
import time

import pytest
from channels.db import database_sync_to_async

from tenants.billing import limits
from tests.support.factories import make_site, make_visitor
from tests.support.sockets import joined, stop_realtime
from widget.handshake import tenant_cache_clear

pytestmark = pytest.mark.django_db(transaction=True)

ROUNDS = 6
MESSAGES_PER_ROUND = 300
CHECKS = 200_000


class NoQuota:
    """The limit switched off: nothing counted, nothing refused."""

    def __init__(self, tenant_id: int) -> None:
        pass

    def take(self, count: int) -> None:
        pass

    def give_back(self) -> None:
        pass


def check_cost(tenant_id: int) -> float:
    limits.MessageQuota(tenant_id).take(1)  # warm: the plan and the month's total are loaded
    started = time.perf_counter()
    for _ in range(CHECKS):
        limits.MessageQuota(tenant_id).take(1)
    return (time.perf_counter() - started) / CHECKS


async def test_the_cost_of_the_message_limit(tenant_a, on_plan, monkeypatch, settings):
    tenant_cache_clear()
    # One visitor sending as fast as acks come back: lift the per-socket frame rate limits.
    unlimited = dict.fromkeys(("FRAME_RATE", "FRAME_BURST"), 1e9)
    unlimited |= dict.fromkeys(("VISITOR_FRAME_RATE", "VISITOR_FRAME_BURST"), 1e9)
    settings.PARLEY_WS = {**settings.PARLEY_WS, **unlimited}
    await database_sync_to_async(on_plan)(tenant_a, "business")
    per_check = await database_sync_to_async(check_cost)(tenant_a.pk)

    site = await database_sync_to_async(make_site)(tenant_a)
    socket = await joined(site, await database_sync_to_async(make_visitor)(site))
    sent = 0

    async def round_trip_ms() -> float:
        nonlocal sent
        started = time.perf_counter()
        for _ in range(MESSAGES_PER_ROUND):
            sent += 1
            await socket.send_json_to({"type": "message", "client_id": f"c{sent}", "text": "hi"})
            while (await socket.receive_json_from(timeout=5))["type"] != "ack":
                pass
        return (time.perf_counter() - started) * 1000 / MESSAGES_PER_ROUND

    await round_trip_ms()  # warm up
    timings: dict[str, list[float]] = {"on": [], "off": []}
    for _ in range(ROUNDS):
        timings["on"].append(await round_trip_ms())
        with monkeypatch.context() as switched_off:
            switched_off.setattr(limits, "MessageQuota", NoQuota)
            timings["off"].append(await round_trip_ms())
    await socket.disconnect()
    await stop_realtime()

    on, off = statistics.median(timings["on"]), statistics.median(timings["off"])
    print(f"\nthe check: {per_check * 1e6:.2f} µs a message ({CHECKS} checks)")
    print(f"socket, limits on:  {on:.3f} ms a message (median of {ROUNDS} rounds)")
    print(f"socket, limits off: {off:.3f} ms a message (median of {ROUNDS} rounds)")
    print(f"difference: {on - off:+.3f} ms ({(on - off) / off:+.1%})")
