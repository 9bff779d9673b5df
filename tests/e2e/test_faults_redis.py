"""Redis stops and comes back (same socket) under two real daphne workers: their sockets are
closed with 1011, messages acknowledged during the outage reach everyone once they are back (also
past the bound of what a worker holds for Redis meanwhile), and the service recovers without a
restart: sockets connect again and frames cross workers. And garbage published on a room's
channel is skipped: the sockets stay.

Every wait is on a condition; its timeout is a limit for a hung process, not a speed
expectation (a busy machine runs this several times slower than an idle one)."""

import asyncio
from collections.abc import Iterator

import httpx
import pytest
from django.db import connection
from django_tenants.utils import schema_context

from config.embedded import database_url
from tenants.services import api_key_create, public_tenant_ensure
from tests.support.factories import make_site, make_visitor
from tests.support.metrics import scrape, value
from tests.support.processes import Daphne, parley_environment
from tests.support.protocol_client import VisitorClient
from tests.support.redis import RedisServer
from widget.events import room_group
from widget.fanout.envelope import FRAME, Envelope
from widget.fanout.transport import REDIS_PREFIX
from widget.models import Conversation, Message

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

ROOM = "plaza"
WAIT = 60  # seconds, for any one condition
SCENARIO_TIMEOUT = 240


def room_state(tenant) -> tuple[int, list[int]]:
    try:
        with schema_context(tenant.schema_name):
            conversation = Conversation.objects.get(room=ROOM)
            ids = Message.objects.filter(conversation=conversation).order_by("id")
            return conversation.id, list(ids.values_list("id", flat=True))
    finally:
        connection.close()


class Outage:
    """A Redis of the test's own and two workers on it, a site with a public room, visitors,
    and an API key to post to the room as a tenant's server does."""

    def __init__(self, tenant, **settings: str):
        public_tenant_ensure()
        self.tenant = tenant
        self.site = make_site(tenant, public_rooms=True)
        self.visitors = [make_visitor(self.site, room=ROOM) for _ in range(3)]
        _, self.api_key = api_key_create(tenant=tenant, name="faults")
        self.redis = RedisServer()
        environment = parley_environment(
            REDIS_URL=self.redis.url,
            PARLEY_FANOUT="redis",
            DATABASE_URL=database_url(connection.settings_dict),
            **settings,
        )
        self.workers: list[Daphne] = []
        try:
            self.workers = [Daphne(environment=environment).start() for _ in range(2)]
        except BaseException:
            self.stop()
            raise

    def client(self, name: str, visitor: int, worker: Daphne) -> VisitorClient:
        """A visitor that reconnects whenever its socket is closed, as the widget does."""
        token = self.visitors[visitor].token
        return VisitorClient(name, self.site, room=ROOM, token=token, port=worker.port)

    def post(self, worker: Daphne, conversation_id: int, client_id: str) -> httpx.Response:
        return httpx.post(
            f"http://127.0.0.1:{worker.port}/api/v1/conversations/{conversation_id}/messages",
            headers={"Host": f"localhost:{worker.port}", "Authorization": f"Bearer {self.api_key}"},
            json={"text": "while Redis was away", "client_id": client_id},
            timeout=WAIT,
        )

    def stop(self) -> None:
        for worker in self.workers:
            worker.stop()
        self.redis.stop()


@pytest.fixture
def outage(tenant_a) -> Iterator:
    """Start an `Outage` with the workers' settings given (environment variables)."""
    started: list[Outage] = []

    def start(**settings: str) -> Outage:
        started.append(Outage(tenant_a, **settings))
        return started[-1]

    yield start
    for each in started:
        each.stop()


async def connected_and_talking(first: VisitorClient, second: VisitorClient) -> None:
    """Both connected, and a message of each seen by both (frames cross workers)."""
    for member in (first, second):
        member.start()
        await member.wait_ready(timeout=WAIT)
    await first.send_message(f"{first.name}-0", "before")
    await second.send_message(f"{second.name}-0", "before")
    for member in (first, second):
        await member.wait_acked(timeout=WAIT)
    for member in (first, second):
        await member.wait_seen([*first.acks.values(), *second.acks.values()], timeout=WAIT)


def test_redis_stopping_and_coming_back_loses_nothing_acknowledged(outage):
    faults = outage()
    first, second = faults.workers

    async def scenario() -> dict:
        g = faults.client("grace", 0, first)
        b = faults.client("bob", 1, second)
        await connected_and_talking(g, b)

        faults.redis.kill()
        for member in (g, b):
            await member.wait_until(lambda member=member: member.close_codes, timeout=WAIT)
        codes = {"grace": g.close_codes[0], "bob": b.close_codes[0]}

        # The clients keep reconnecting while Redis is away: each has one attempt refused (after
        # waiting for the subscription) before a message is acknowledged by the other worker
        # (stored, answered 201); then Redis comes back.
        for member in (g, b):
            await member.wait_until(lambda member=member: len(member.close_codes) >= 2, WAIT)
        conversation_id, _ = await asyncio.to_thread(room_state, faults.tenant)
        posted = await asyncio.to_thread(faults.post, second, conversation_id, "api-1")
        faults.redis.start()
        await asyncio.gather(*(member.wait_ready(timeout=WAIT) for member in (g, b)))

        # Recovered without a restart: live frames cross workers again, new sockets work.
        c = faults.client("carol", 2, first)
        c.start()
        await c.wait_ready(timeout=WAIT)
        await b.send_message("b1", "b1")
        await g.send_message("g1", "g1")
        await b.wait_acked(timeout=WAIT)
        await g.wait_acked(timeout=WAIT)
        _, stored = await asyncio.to_thread(room_state, faults.tenant)
        for member in (g, b):
            await member.wait_seen(stored, timeout=WAIT)
        await c.wait_seen([b.acks["b1"], g.acks["g1"]], timeout=WAIT)
        for member in (g, b, c):
            await member.stop()
        return {"codes": codes, "posted": posted, "stored": stored, "members": (g, b)}

    outcome = asyncio.run(asyncio.wait_for(scenario(), timeout=SCENARIO_TIMEOUT))

    assert outcome["codes"] == {"grace": 1011, "bob": 1011}
    assert outcome["posted"].status_code == 201, outcome["posted"].text
    posted_id = outcome["posted"].json()["id"]
    assert posted_id in outcome["stored"]
    assert len(outcome["stored"]) == 5  # g0, b0, the API's, b1, g1: each stored once
    for member in outcome["members"]:
        assert set(member.close_codes) == {1011}, member.name
        assert set(member.seen) == set(outcome["stored"]), member.name
        assert max(member.seen.values()) == 1, f"{member.name} saw a message twice"


def test_messages_past_the_outbox_bound_while_redis_is_down_reach_resuming_clients(outage):
    faults = outage(PARLEY_FANOUT_OUTBOX_FRAMES="10")
    first, second = faults.workers
    posts = 40  # about 3 frames each (to the room, to the agents, the conversation's update)

    async def scenario() -> dict:
        g = faults.client("grace", 0, first)
        b = faults.client("bob", 1, second)
        await connected_and_talking(g, b)
        faults.redis.kill()
        for member in (g, b):
            await member.wait_until(lambda member=member: member.close_codes, timeout=WAIT)

        conversation_id, _ = await asyncio.to_thread(room_state, faults.tenant)
        held = []
        for n in range(posts):
            answer = await asyncio.to_thread(faults.post, second, conversation_id, f"api-{n}")
            assert answer.status_code == 201, answer.text
            held.append(await asyncio.to_thread(scrape, second.url))
        faults.redis.start()

        _, stored = await asyncio.to_thread(room_state, faults.tenant)
        for member in (g, b):
            await member.wait_seen(stored, timeout=WAIT)
        for member in (g, b):
            await member.stop()
        return {"held": held, "stored": stored, "members": (g, b)}

    outcome = asyncio.run(asyncio.wait_for(scenario(), timeout=SCENARIO_TIMEOUT))

    for samples in outcome["held"]:
        assert value(samples, "parley_fanout_outbox_frames") <= 10
    assert value(outcome["held"][-1], "parley_fanout_unpublished_total") > 0
    assert len(outcome["stored"]) == 2 + posts
    for member in outcome["members"]:
        assert set(member.seen) == set(outcome["stored"]), member.name
        assert max(member.seen.values()) == 1, f"{member.name} saw a message twice"


def test_garbage_on_a_rooms_channel_is_skipped_and_its_sockets_stay(outage):
    faults = outage()
    first, second = faults.workers
    channel = REDIS_PREFIX + room_group(faults.tenant.id, faults.site.site.id, ROOM)
    frame = '{"type":"message","id":999,"text":"forged"}'
    garbage = [
        b"garbage",
        b"",
        b"origin|f|",  # cut short in its header
        Envelope("x", FRAME, frame).encode("intruder")[:-2],  # cut short in its frame
        Envelope("x", FRAME, frame).encode("intruder").replace(b"|f|", b"|z|", 1),  # no kind
        b"\xff\xfe|f||0|message|1.0|{}",  # not UTF-8
        b"intruder|f||ninety|message|1.0|{}",
        b"intruder|c||0||1.0|shutdown",  # a close that names no code
    ]

    async def scenario() -> dict:
        g = faults.client("grace", 0, first)
        b = faults.client("bob", 1, second)
        await connected_and_talking(g, b)
        publisher = faults.redis.client()
        for data in garbage:
            await asyncio.to_thread(publisher.publish, channel, data)
        # Published after the garbage, so each worker reads it after the garbage too.
        await b.send_message("bob-1", "after the garbage")
        await b.wait_acked(timeout=WAIT)
        await g.wait_seen([b.acks["bob-1"]], timeout=WAIT)
        counted = [await asyncio.to_thread(scrape, worker.url) for worker in (first, second)]
        for member in (g, b):
            await member.stop()
        return {"members": (g, b), "counted": counted}

    outcome = asyncio.run(asyncio.wait_for(scenario(), timeout=SCENARIO_TIMEOUT))

    for member in outcome["members"]:
        assert member.close_codes == [], member.name
        assert 999 not in member.seen, member.name
    for samples in outcome["counted"]:
        assert value(samples, "parley_fanout_undecodable_total") == len(garbage)
    for worker in (first, second):  # logged once for all of them, not once each
        assert worker.log_path.read_text().count("undecodable message") == 1


async def readyz_until(worker: Daphne, status: int) -> httpx.Response:
    """/readyz of the worker (asked from loopback: a trusted caller) once it answers `status`."""
    async with httpx.AsyncClient(timeout=WAIT) as client:
        async with asyncio.timeout(WAIT):
            while True:
                response = await client.get(f"{worker.url}/readyz")
                if response.status_code == status:
                    return response
                await asyncio.sleep(0.2)


def test_readyz_names_the_fanout_while_redis_is_away(outage):
    faults = outage()
    with_socket, without_socket = faults.workers

    async def scenario() -> dict:
        grace = faults.client("grace", 0, with_socket)
        grace.start()
        await grace.wait_ready(timeout=WAIT)  # with_socket's fan-out is subscribed
        ready_before = await readyz_until(with_socket, 200)
        faults.redis.kill()
        down = {worker: await readyz_until(worker, 503) for worker in faults.workers}
        faults.redis.start()
        await grace.wait_ready(timeout=WAIT)
        back = await readyz_until(with_socket, 200)
        await grace.stop()
        return {"before": ready_before, "down": down, "back": back}

    outcome = asyncio.run(asyncio.wait_for(scenario(), timeout=SCENARIO_TIMEOUT))

    assert outcome["before"].json() == {"status": "ready"}
    # The subscription of a worker with sockets, and Redis itself for one that has none yet.
    for worker in (with_socket, without_socket):
        assert "fanout" in outcome["down"][worker].json()["failing"]
    assert outcome["back"].json() == {"status": "ready"}
