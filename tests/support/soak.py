"""A soak driver: hundreds of `VisitorClient`s (tests/support/protocol_client.py) chatting with
real Parley workers for minutes, each following the protocol as the widget does: `auth`, wait for
`ready`, send messages with a `client_id`, count an `ack` as stored, and after a lost connection
reconnect, resume with `since` and resend what was not acknowledged.

Every message id a client is shown is counted, so the end of a run can prove that each message
was acknowledged, stored once and shown exactly once to every member of its room. Used by
`tests/e2e/test_soak.py` (a short run in `make test`, a long one with `make soak`).

Parameters come from the environment (`SoakConfig.from_environment`):
PARLEY_SOAK_SOCKETS, PARLEY_SOAK_SECONDS, PARLEY_SOAK_INTERVAL (seconds between two messages of
one socket), PARLEY_SOAK_PUBLIC_ROOMS and PARLEY_SOAK_PUBLIC_MEMBERS (sockets per public room; the
other sockets are visitors alone in their private conversation).
"""

import asyncio
import os
import random
import resource
import time
import uuid
from collections import Counter
from dataclasses import dataclass

from django_tenants.utils import schema_context

from tests.support.factories import SiteFixture, visitors_with_tokens
from tests.support.protocol_client import AgentClient, Timings, VisitorClient
from widget.models import Message


@dataclass(frozen=True)
class SoakConfig:
    sockets: int = 300
    seconds: float = 60
    interval: float = 4.0
    public_rooms: int = 4
    public_members: int = 25

    @classmethod
    def from_environment(cls, **defaults) -> "SoakConfig":
        values = {**cls().__dict__, **defaults}
        for name, default in values.items():
            raw = os.environ.get(f"PARLEY_SOAK_{name.upper()}")
            if raw is not None:
                values[name] = type(default)(raw)
        return cls(**values)


def raise_open_files_limit(needed: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(needed, hard), hard))


def stored_message_ids(site: SiteFixture, rooms) -> dict[str, list[int]]:
    """Every stored message id of each room (a list: a duplicate row would show)."""
    with schema_context(site.tenant.schema_name):
        rows = Message.objects.filter(conversation__room__in=list(rooms)).values_list(
            "conversation__room", "id"
        )
        stored: dict[str, list[int]] = {room: [] for room in rooms}
        for room, message_id in rows:
            stored[room].append(message_id)
    return stored


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def talk(client: VisitorClient, talking: asyncio.Event, interval: float) -> None:
    """One message every ~`interval` s while `talking` is set, whenever connected."""
    await talking.wait()
    await asyncio.sleep(random.uniform(0, interval))
    while talking.is_set():
        await client.ready.wait()
        await client.send_message(f"{client.name}-{client.sent + 1}", f"hello {client.sent + 1}")
        await asyncio.sleep(random.uniform(0.5, 1.5) * interval)


@dataclass
class SoakResult:
    seconds: float
    sockets: int
    messages: int
    acked: int
    stored: int
    deliveries: int
    expected_deliveries: int
    lost: list[str]
    duplicated: list[str]
    ack_p50_ms: float
    ack_p99_ms: float
    delivery_p50_ms: float
    delivery_p99_ms: float
    reconnects: int
    errors: dict
    closes: dict

    def summary(self) -> str:
        return (
            f"{self.sockets} sockets, {self.seconds:.0f} s: {self.messages} messages "
            f"({self.messages / self.seconds:.1f}/s), {self.deliveries} deliveries "
            f"({self.deliveries / self.seconds:.0f}/s), ack p50 {self.ack_p50_ms:.1f} ms "
            f"p99 {self.ack_p99_ms:.1f} ms, delivery p50 {self.delivery_p50_ms:.1f} ms "
            f"p99 {self.delivery_p99_ms:.1f} ms, reconnects {self.reconnects}, "
            f"errors {self.errors}, lost {len(self.lost)}, duplicated {len(self.duplicated)}"
        )


def make_clients(
    site: SiteFixture, ports: list[int], config: SoakConfig, timings: Timings
) -> list[VisitorClient]:
    """The sockets: `public_rooms` rooms of `public_members`, the rest alone in their own
    conversation; spread over the workers in turn (a public room spans every worker)."""
    run = uuid.uuid4().hex[:6]
    credentials = visitors_with_tokens(site, config.sockets)
    public = min(config.public_rooms * config.public_members, config.sockets)
    clients = []
    for index, (private_room, token) in enumerate(credentials):
        room = f"soak-{run}-{index % config.public_rooms}" if index < public else private_room
        port = ports[index % len(ports)]
        clients.append(
            VisitorClient(f"s{index}", site, room=room, token=token, port=port, timings=timings)
        )
    return clients


async def soak(
    clients: list[VisitorClient], config: SoakConfig, agents: list[AgentClient] = ()
) -> float:
    """Connect everyone, chat for `config.seconds`, then wait until every message is
    acknowledged and shown to every member of its room and every agent (or 60 s). Returns the
    chatting time."""
    talking = asyncio.Event()
    everyone = [*clients, *agents]
    for member in everyone:
        member.start()
    talks = [asyncio.create_task(talk(client, talking, config.interval)) for client in clients]
    try:
        async with asyncio.timeout(120):
            await asyncio.gather(*(member.ready.wait() for member in everyone))
        started = time.monotonic()
        talking.set()
        await asyncio.sleep(config.seconds)
        talking.clear()
        elapsed = time.monotonic() - started
        members: dict[str, list[VisitorClient]] = {}
        for client in clients:
            members.setdefault(client.room, []).append(client)

        def settled() -> bool:
            for room_members in members.values():
                if any(member.unacked for member in room_members):
                    return False
                acked = {i for member in room_members for i in member.acks.values()}
                if any(not acked <= set(member.seen) for member in room_members):
                    return False
            everything = {i for client in clients for i in client.acks.values()}
            return all(everything <= set(agent.seen) for agent in agents)

        deadline = time.monotonic() + 60
        while not settled() and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        return elapsed
    finally:
        for task in talks:
            task.cancel()
        await asyncio.gather(*talks, return_exceptions=True)
        await asyncio.gather(*(member.stop() for member in everyone), return_exceptions=True)


def check(
    clients: list[VisitorClient],
    stored: dict[str, list[int]],
    timings: Timings,
    seconds: float,
    agents: list[AgentClient] = (),
) -> SoakResult:
    """Compare what every client sent, was acknowledged and was shown with what is stored."""
    lost, duplicated = [], []
    members: dict[str, list[VisitorClient]] = {}
    for client in clients:
        members.setdefault(client.room, []).append(client)
    expected = 0
    for room, room_members in members.items():
        acked = {i for member in room_members for i in member.acks.values()}
        rows = stored.get(room, [])
        if len(rows) != len(set(rows)) or set(rows) != acked:
            lost.append(f"{room}: stored {len(rows)} rows, {len(acked)} acknowledged")
        for member in room_members:
            expected += len(acked)
            for client_id in member.unacked:
                lost.append(f"{client_id} never acknowledged")
            missing = acked - set(member.seen)
            if missing:
                lost.append(f"{member.name} never shown {len(missing)} of {room}")
            duplicated += [
                f"{member.name} shown {i} {n} times" for i, n in member.seen.items() if n > 1
            ]
    everything = {i for client in clients for i in client.acks.values()}
    everyone = [*clients, *agents]
    for agent in agents:
        expected += len(everything)
        if everything - set(agent.seen):
            lost.append(f"{agent.name} never shown {len(everything - set(agent.seen))} messages")
        duplicated += [f"{agent.name} shown {i} {n} times" for i, n in agent.seen.items() if n > 1]
    return SoakResult(
        seconds=seconds,
        sockets=len(clients),
        messages=sum(client.sent for client in clients),
        acked=sum(len(client.acks) for client in clients),
        stored=sum(len(rows) for rows in stored.values()),
        deliveries=sum(sum(member.seen.values()) for member in everyone),
        expected_deliveries=expected,
        lost=lost,
        duplicated=duplicated,
        ack_p50_ms=1000 * percentile(timings.ack, 0.5),
        ack_p99_ms=1000 * percentile(timings.ack, 0.99),
        delivery_p50_ms=1000 * percentile(timings.delivery, 0.5),
        delivery_p99_ms=1000 * percentile(timings.delivery, 0.99),
        reconnects=sum(max(member.connections - 1, 0) for member in everyone),
        errors=dict(Counter(error["code"] for member in everyone for error in member.errors)),
        closes=dict(Counter(code for member in everyone for code in member.close_codes)),
    )
