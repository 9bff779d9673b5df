"""The load generator: real WebSocket clients driving one target, one scenario at a time.

Scenarios:
- fan-out: R rooms of S members; members publish at a stepped offered rate of deliveries per
  second (one message in a room of S is S deliveries); every delivery is counted per member and
  timed from the sender's clock (one machine, one clock), so loss, duplicates and latency are exact.
- burst: N clients connect at the same moment; a connect counts once the target says it is ready
  (Parley: after `auth` → `ready`).
- idle: N clients connect and stay quiet; the server's resident memory before and after gives the
  memory per idle connection.
"""

import asyncio
import itertools
import os
import resource
import statistics
import time
import uuid
from dataclasses import dataclass

import orjson
from websockets.asyncio.client import connect

OPEN_TIMEOUT = 30


def raise_fd_limit() -> None:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


# One source address has about 28k ephemeral ports towards one server port (Linux's default
# `net.ipv4.ip_local_port_range`, 32768-60999): past that, the idle sockets come from 127.0.0.2,
# 127.0.0.3... (all of 127/8 is the loopback).
PORTS_PER_SOURCE = 25_000


def source_address(index: int) -> tuple[str, int] | None:
    """The local address of the `index`th client: the kernel's choice for the first 25k."""
    source = index // PORTS_PER_SOURCE
    return None if source == 0 else (f"127.0.0.{1 + source}", 0)


async def open_member(target, room: str, member: int, local_addr: tuple[str, int] | None = None):
    socket = await connect(
        target.room_url(room, member),
        origin=target.origin(),
        open_timeout=OPEN_TIMEOUT,
        max_queue=None,
        compression=None,
        ping_interval=None,
        local_addr=local_addr,
    )
    hello = target.hello(room, member)
    if hello is not None:
        await socket.send(hello.decode())
        while True:
            frame = orjson.loads(await asyncio.wait_for(socket.recv(), OPEN_TIMEOUT))
            if target.is_ready(frame):
                break
    return socket


@dataclass
class StepResult:
    offered: float  # deliveries/s asked for
    achieved: float  # deliveries/s received, first send to last receive
    sent: int
    expected: int
    received: int
    lost: int
    duplicates: int
    p50_ms: float
    p99_ms: float

    @property
    def lossless(self) -> bool:
        return self.lost == 0 and self.duplicates == 0


class Room:
    def __init__(self, name: str, sockets: list):
        self.name = name
        self.sockets = sockets


async def open_rooms(target, rooms: int, members: int) -> list[Room]:
    result = []
    for r in range(rooms):
        name = f"bench{r}"
        sockets = await asyncio.gather(*(open_member(target, name, m) for m in range(members)))
        result.append(Room(name, list(sockets)))
    return result


async def close_rooms(rooms: list[Room]) -> None:
    await asyncio.gather(
        *(s.close() for room in rooms for s in room.sockets), return_exceptions=True
    )


async def fanout_step(
    target, rooms: list[Room], offered: float, seconds: float, drain_seconds: float
) -> StepResult:
    """Publish at `offered` deliveries/s for `seconds`, then wait for every delivery."""
    members = len(rooms[0].sockets)
    run = uuid.uuid4().hex[:8]
    seen: set[tuple[int, int]] = set()
    latencies: list[float] = []
    duplicates = 0
    last_receive = 0.0
    counter = itertools.count()

    async def reader(member_index: int, socket):
        nonlocal duplicates, last_receive
        async for raw in socket:
            text = target.delivered_text(orjson.loads(raw))
            if not text or not text.startswith(run):
                continue
            _, number, sent_at = text.split("|")
            now = time.time()
            key = (member_index, int(number))
            if key in seen:
                duplicates += 1
            else:
                seen.add(key)
                latencies.append(now - float(sent_at))
            last_receive = now

    all_sockets = [s for room in rooms for s in room.sockets]
    readers = [asyncio.create_task(reader(i, s)) for i, s in enumerate(all_sockets)]
    messages_per_second = offered / members
    tick = 0.01
    per_tick = messages_per_second * tick
    publishers = itertools.cycle(all_sockets)
    sent = 0
    started = time.time()
    budget = 0.0
    while time.time() - started < seconds:
        budget += per_tick
        while budget >= 1:
            budget -= 1
            number = next(counter)
            text = f"{run}|{number}|{time.time()}"
            await next(publishers).send(target.message(text, uuid.uuid4().hex).decode())
            sent += 1
        await asyncio.sleep(tick - (time.time() - started) % tick)
    expected = sent * members
    deadline = time.time() + drain_seconds
    while len(seen) < expected and time.time() < deadline:
        await asyncio.sleep(0.05)
    for task in readers:
        task.cancel()
    await asyncio.gather(*readers, return_exceptions=True)
    elapsed = max(last_receive - started, seconds)
    ordered = sorted(latencies) or [0.0]
    return StepResult(
        offered=offered,
        achieved=len(seen) / elapsed,
        sent=sent,
        expected=expected,
        received=len(seen),
        lost=expected - len(seen),
        duplicates=duplicates,
        p50_ms=statistics.median(ordered) * 1000,
        p99_ms=ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000,
    )


@dataclass
class BurstResult:
    clients: int
    accepted: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.accepted / self.seconds if self.seconds else 0.0


async def burst(target, clients: int, room_size: int = 50) -> BurstResult:
    """`clients` connect at once; count those the target accepts (and authenticates)."""
    started = time.perf_counter()
    results = await asyncio.gather(
        *(open_member(target, f"burst{i // room_size}", i % room_size) for i in range(clients)),
        return_exceptions=True,
    )
    seconds = time.perf_counter() - started
    sockets = [r for r in results if not isinstance(r, BaseException)]
    await asyncio.gather(*(s.close() for s in sockets), return_exceptions=True)
    return BurstResult(clients=clients, accepted=len(sockets), seconds=seconds)


def target_rss(target) -> int:
    """The resident memory of every process of the target."""
    return sum(rss_bytes(pid) for pid in (target.pid, *getattr(target, "more_pids", ())))


def rss_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for {pid}")


@dataclass
class IdleResult:
    clients: int
    held: int
    bytes_per_connection: float


async def idle(target, clients: int, room_size: int = 100) -> IdleResult:
    """Hold `clients` quiet connections; the server's RSS growth per connection."""
    await asyncio.sleep(1)
    before = target_rss(target)
    sockets = []
    batch = 500
    for start in range(0, clients, batch):
        opened = await asyncio.gather(
            *(
                open_member(target, f"idle{i // room_size}", i % room_size, source_address(i))
                for i in range(start, min(clients, start + batch))
            ),
            return_exceptions=True,
        )
        sockets += [s for s in opened if not isinstance(s, BaseException)]
    await asyncio.sleep(2)
    after = target_rss(target)
    held = len(sockets)
    await asyncio.gather(*(s.close() for s in sockets), return_exceptions=True)
    return IdleResult(
        clients=clients, held=held, bytes_per_connection=(after - before) / max(held, 1)
    )


def cpu_count() -> int:
    return os.cpu_count() or 1
