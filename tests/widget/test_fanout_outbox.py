"""The outbox of group messages waiting for Redis is bounded, in frames and in bytes, whatever
the process publishes while Redis is away; a frame that does not fit leaves the live path, and
the sockets of its group on other workers are closed (1011) to resume from the database instead
of going on without it."""

import asyncio

import orjson
import pytest
from prometheus_client import REGISTRY

from tests.support.redis import RedisServer
from widget.fanout.envelope import FRAME, Envelope
from widget.fanout.hub import Hub
from widget.fanout.transport import REDIS_PREFIX

GROUPS = [f"t1.s1.room.r{n}" for n in range(10)]
TEXT = "x" * 1000  # about a kilobyte per frame


class Recorder:
    """A member of a group that records what reaches it, frames and closes, in order."""

    def __init__(self, name: str):
        self.member_id = name
        self.events: list[tuple[str, object]] = []

    async def push(self, text: str, message_id: int, frame_type: str) -> None:
        self.events.append(("frame", orjson.loads(text)["n"]))

    async def close_from_server(self, code: int) -> None:
        self.events.append(("close", code))

    async def wait_for(self, event: tuple[str, object]) -> None:
        async with asyncio.timeout(30):
            while event not in self.events:
                await asyncio.sleep(0.01)


def frame(group: str, n: int) -> Envelope:
    text = orjson.dumps({"type": "typing", "n": n, "padding": TEXT}).decode()
    return Envelope(group, FRAME, text, frame_type="typing")


def sample(name: str) -> float:
    return REGISTRY.get_sample_value(name) or 0.0


async def subscribed(server: RedisServer, group: str) -> None:
    client = server.client()
    async with asyncio.timeout(30):
        while (await asyncio.to_thread(client.pubsub_numsub, REDIS_PREFIX + group))[0][1] == 0:
            await asyncio.sleep(0.02)


@pytest.fixture
def redis_server(settings):
    server = RedisServer()
    settings.PARLEY_FANOUT = "redis"
    settings.REDIS_URL = server.url
    yield server
    server.stop()


@pytest.fixture
async def hubs():
    """Hubs of this test, each standing for one worker process, stopped after it."""
    made: list[Hub] = []

    def make() -> Hub:
        made.append(Hub())
        return made[-1]

    yield make
    for hub in made:
        await hub.aclose()


@pytest.mark.parametrize(
    ("max_frames", "max_bytes"), [(50, 10_000_000), (10_000, 20_000)], ids=["frames", "bytes"]
)
async def test_the_outbox_stays_within_its_bounds_while_redis_is_down(
    redis_server, hubs, settings, max_frames, max_bytes
):
    settings.PARLEY_FANOUT_OUTBOX_FRAMES = max_frames
    settings.PARLEY_FANOUT_OUTBOX_BYTES = max_bytes
    worker = hubs()
    member = Recorder("here")
    await worker.join(GROUPS[0], member)
    await subscribed(redis_server, GROUPS[0])
    unpublished_before = sample("parley_fanout_unpublished_total")
    redis_server.kill()
    await member.wait_for(("close", 1011))  # the subscription is lost: its own sockets resume

    published = 5000
    for n in range(published):
        worker.publish(frame(GROUPS[n % len(GROUPS)], n))
        if n % 100 == 0:
            await asyncio.sleep(0)  # the publisher tries, and fails
            assert sample("parley_fanout_outbox_frames") <= max_frames
            assert sample("parley_fanout_outbox_bytes") <= max_bytes
    assert sample("parley_fanout_outbox_frames") <= max_frames
    assert sample("parley_fanout_outbox_bytes") <= max_bytes
    dropped = sample("parley_fanout_unpublished_total") - unpublished_before
    assert dropped >= published - max_frames - 500  # all but what fits and a batch in flight

    # Redis back: the close orders and what the outbox holds go out, and nothing is left.
    redis_server.start()
    async with asyncio.timeout(60):
        await worker.transport.flush()
    assert sample("parley_fanout_outbox_frames") == 0
    assert sample("parley_fanout_outbox_bytes") == 0


async def test_sockets_elsewhere_are_closed_to_resume_when_their_frames_are_dropped(
    redis_server, hubs, settings
):
    settings.PARLEY_FANOUT_OUTBOX_FRAMES = 50
    publisher, other_worker = hubs(), hubs()
    members = {group: Recorder(group) for group in GROUPS[:3]}
    for group, member in members.items():
        await other_worker.join(group, member)
        await subscribed(redis_server, group)
    await publisher.join("t1.s1.room.publisher", Recorder("publisher"))
    publisher.publish(frame(GROUPS[0], -1))
    await members[GROUPS[0]].wait_for(("frame", -1))  # frames cross between the two

    # Redis holds every publish (the subscription stays up): the outbox fills, then overflows.
    admin = redis_server.client()
    await asyncio.to_thread(admin.execute_command, "CLIENT", "PAUSE", "60000", "WRITE")
    for n in range(1000):
        publisher.publish(frame(GROUPS[n % 3], n))
    assert sample("parley_fanout_outbox_frames") <= 50
    await asyncio.to_thread(admin.execute_command, "CLIENT", "UNPAUSE")
    async with asyncio.timeout(60):
        await publisher.transport.flush()  # what fitted, and the close orders, went out
    for group in members:
        publisher.publish(frame(group, 10_000))

    for group, member in members.items():
        await member.wait_for(("frame", 10_000))
        published = set(range(GROUPS.index(group), 1000, 3))
        received = [n for kind, n in member.events if kind == "frame" and n in published]
        dropped = published - set(received)
        assert dropped, group
        assert received == sorted(received), group
        # The socket is closed (its client resumes with `since` the highest id it saw) before
        # it sees any frame published after one it missed: the resume reads the missed ones.
        first_close = member.events.index(("close", 1011))
        seen_before_close = [n for kind, n in member.events[:first_close] if kind == "frame"]
        assert max(seen_before_close, default=-1) < min(dropped), group
        assert member.events[-1] == ("frame", 10_000), group
