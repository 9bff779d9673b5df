"""A soak driver: hundreds of real WebSocket clients (the `websockets` library) chatting with real
Parley workers for minutes, each following the protocol as the widget does: `auth`, wait for
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
import contextlib
import json
import os
import random
import resource
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field

import websockets
from django_tenants.utils import schema_context

from tests.support.clients import unseen_in_ready
from tests.support.factories import AgentFixture, SiteFixture, visitors_with_tokens
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


@dataclass
class SoakStats:
    sent_at: dict[str, float] = field(default_factory=dict)  # client_id -> first send
    ack_latency: list[float] = field(default_factory=list)
    delivery_latency: list[float] = field(default_factory=list)
    errors: Counter = field(default_factory=Counter)
    closes: Counter = field(default_factory=Counter)
    reconnects: int = 0


class SoakClient:
    """One socket of one visitor, behaving like the widget."""

    def __init__(self, name: str, url: str, origin: str, room: str, token: str, stats: SoakStats):
        self.name = name
        self.url = url
        self.origin = origin
        self.room = room
        self.token = token
        self.stats = stats
        self.seen: Counter[int] = Counter()
        self.last_id = 0
        self.acks: dict[str, int] = {}
        self.unacked: dict[str, dict] = {}
        self.socket = None
        self.ready = asyncio.Event()
        self.sent = 0
        self.resends: set[asyncio.Future] = set()

    async def connect(self) -> None:
        """Connect, `auth` (with `since` after the first time), read `ready`, resend."""
        self.socket = await websockets.connect(
            self.url, origin=self.origin, open_timeout=30, ping_interval=None
        )
        auth = {"type": "auth", "token": self.token}
        if self.last_id:
            auth["since"] = self.last_id
        await self.socket.send(json.dumps(auth))
        ready = json.loads(await asyncio.wait_for(self.socket.recv(), timeout=30))
        if ready.get("type") != "ready":
            raise RuntimeError(f"{self.name}: expected ready, got {ready}")
        for message in unseen_in_ready(ready, self.seen, auth.get("since")):
            self.record(message)
        for frame in list(self.unacked.values()):
            await self.socket.send(json.dumps(frame))
        self.ready.set()

    def record(self, message: dict) -> None:
        self.seen[message["id"]] += 1
        self.last_id = max(self.last_id, message["id"])
        sent_at = self.stats.sent_at.get(message.get("client_id") or "")
        if sent_at is not None and self.seen[message["id"]] == 1:
            self.stats.delivery_latency.append(time.monotonic() - sent_at)

    async def read(self) -> None:
        async for raw in self.socket:
            frame = json.loads(raw)
            kind = frame["type"]
            if kind == "message":
                self.record(frame)
            elif kind == "ack":
                client_id = frame["client_id"]
                if client_id not in self.acks:
                    self.stats.ack_latency.append(time.monotonic() - self.stats.sent_at[client_id])
                self.acks[client_id] = frame["id"]
                self.unacked.pop(client_id, None)
            elif kind == "error":
                self.stats.errors[frame["code"]] += 1
                if frame["code"] == "rate_limited":
                    asyncio.get_running_loop().call_later(
                        frame.get("retry_after", 5), self._resend_soon
                    )

    def _resend_soon(self) -> None:
        task = asyncio.ensure_future(self._resend())
        self.resends.add(task)
        task.add_done_callback(self.resends.discard)

    async def _resend(self) -> None:
        with contextlib.suppress(websockets.ConnectionClosed, AttributeError):
            for frame in list(self.unacked.values()):
                await self.socket.send(json.dumps(frame))

    async def send_message(self) -> None:
        self.sent += 1
        client_id = f"{self.name}-{self.sent}"
        frame = {"type": "message", "client_id": client_id, "text": f"hello {self.sent}"}
        self.unacked[client_id] = frame
        self.stats.sent_at[client_id] = time.monotonic()
        with contextlib.suppress(websockets.ConnectionClosed):
            await self.socket.send(json.dumps(frame))

    async def run(self, talking: asyncio.Event, stop: asyncio.Event, interval: float) -> None:
        """Read (reconnecting as needed) until `stop`; send one message every ~`interval` s
        while `talking` is set."""
        sender = asyncio.create_task(self._talk(talking, interval))
        try:
            while not stop.is_set():
                try:
                    if self.socket is None:
                        await self.connect()
                    reading = asyncio.create_task(self.read())
                    stopping = asyncio.create_task(stop.wait())
                    await asyncio.wait({reading, stopping}, return_when=asyncio.FIRST_COMPLETED)
                    if stop.is_set():
                        reading.cancel()
                        with contextlib.suppress(asyncio.CancelledError):
                            await reading
                        return
                    stopping.cancel()
                    await reading  # the connection ended without being asked to
                except (OSError, websockets.WebSocketException, TimeoutError):
                    pass
                if self.socket is not None:
                    self.stats.closes[self.socket.close_code] += 1
                self.socket = None
                self.ready.clear()
                self.stats.reconnects += 1
                await asyncio.sleep(random.uniform(0.2, 1.0))
        finally:
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sender

    async def _talk(self, talking: asyncio.Event, interval: float) -> None:
        await talking.wait()
        await asyncio.sleep(random.uniform(0, interval))
        while talking.is_set():
            await self.ready.wait()
            await self.send_message()
            await asyncio.sleep(random.uniform(0.5, 1.5) * interval)

    async def close(self) -> None:
        if self.socket is not None:
            await self.socket.close()


class SoakAgent:
    """An agent's dashboard socket: it is shown every message of every room of the tenant, and
    pings every 20 s as the dashboard does (an agent socket that sends nothing is idle)."""

    def __init__(self, name: str, port: int, agent: AgentFixture, stats: SoakStats):
        self.name = name
        self.port = port
        self.agent = agent
        self.stats = stats
        self.seen: Counter[int] = Counter()
        self.ready = asyncio.Event()
        self.socket = None

    async def run(self, stop: asyncio.Event) -> None:
        host = f"{self.agent.host}:{self.port}"
        self.socket = await websockets.connect(
            f"ws://{host}/ws/agent/",
            host="127.0.0.1",
            port=self.port,
            origin=f"http://{host}",
            additional_headers={"Cookie": f"sessionid={self.agent.session_key}"},
            open_timeout=30,
            ping_interval=None,
        )
        ready = json.loads(await asyncio.wait_for(self.socket.recv(), timeout=30))
        if ready.get("type") != "ready":
            raise RuntimeError(f"{self.name}: expected ready, got {ready}")
        self.ready.set()
        pinging = asyncio.create_task(self._ping(stop))
        try:
            async for raw in self.socket:
                frame = json.loads(raw)
                if frame["type"] == "message":
                    self.seen[frame["id"]] += 1
                elif frame["type"] == "error":
                    self.stats.errors[frame["code"]] += 1
        except websockets.ConnectionClosed:
            pass
        finally:
            pinging.cancel()
            if not stop.is_set():
                self.stats.closes[self.socket.close_code] += 1

    async def _ping(self, stop: asyncio.Event) -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            while not stop.is_set():
                await asyncio.sleep(20)
                await self.socket.send('{"type": "ping"}')

    async def close(self) -> None:
        if self.socket is not None:
            await self.socket.close()


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
    site: SiteFixture, ports: list[int], config: SoakConfig, stats: SoakStats
) -> list[SoakClient]:
    """The sockets: `public_rooms` rooms of `public_members`, the rest alone in their own
    conversation; spread over the workers in turn (a public room spans every worker)."""
    run = uuid.uuid4().hex[:6]
    credentials = visitors_with_tokens(site, config.sockets)
    public = min(config.public_rooms * config.public_members, config.sockets)
    clients = []
    for index, (private_room, token) in enumerate(credentials):
        room = f"soak-{run}-{index % config.public_rooms}" if index < public else private_room
        port = ports[index % len(ports)]
        url = f"ws://127.0.0.1:{port}/ws/chat/{room}/?site_key={site.key}"
        clients.append(SoakClient(f"s{index}", url, site.origin, room, token, stats))
    return clients


async def soak(
    clients: list[SoakClient],
    config: SoakConfig,
    stats: SoakStats,
    agents: list[SoakAgent] = (),
) -> float:
    """Connect everyone, chat for `config.seconds`, then wait until every message is
    acknowledged and shown to every member of its room and every agent (or 60 s). Returns the
    chatting time."""
    talking, stop = asyncio.Event(), asyncio.Event()
    runs = [asyncio.create_task(client.run(talking, stop, config.interval)) for client in clients]
    runs += [asyncio.create_task(agent.run(stop)) for agent in agents]
    try:
        async with asyncio.timeout(120):
            await asyncio.gather(*(member.ready.wait() for member in [*clients, *agents]))
        started = time.monotonic()
        talking.set()
        await asyncio.sleep(config.seconds)
        talking.clear()
        elapsed = time.monotonic() - started
        members: dict[str, list[SoakClient]] = {}
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
        stop.set()
        for agent in agents:
            await agent.close()
        await asyncio.gather(*runs, return_exceptions=True)
        await asyncio.gather(*(client.close() for client in clients), return_exceptions=True)


def check(
    clients: list[SoakClient],
    stored: dict[str, list[int]],
    stats: SoakStats,
    seconds: float,
    agents: list[SoakAgent] = (),
) -> SoakResult:
    """Compare what every client sent, was acknowledged and was shown with what is stored."""
    lost, duplicated = [], []
    members: dict[str, list[SoakClient]] = {}
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
        deliveries=sum(sum(member.seen.values()) for member in [*clients, *agents]),
        expected_deliveries=expected,
        lost=lost,
        duplicated=duplicated,
        ack_p50_ms=1000 * percentile(stats.ack_latency, 0.5),
        ack_p99_ms=1000 * percentile(stats.ack_latency, 0.99),
        delivery_p50_ms=1000 * percentile(stats.delivery_latency, 0.5),
        delivery_p99_ms=1000 * percentile(stats.delivery_latency, 0.99),
        reconnects=stats.reconnects,
        errors=dict(stats.errors),
        closes=dict(stats.closes),
    )
