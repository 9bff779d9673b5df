"""`make bench`'s raw target: the bare broadcast server speaks the seed's protocol, so the load
generator drives it unchanged, and the table holds Parley to the issue's ratios against it."""

import asyncio

import orjson
import pytest

from bench import loadgen, servers
from bench.loadgen import PORTS_PER_SOURCE, source_address
from bench.run import table
from bench.targets import SeedTarget


@pytest.fixture
def raw_target():
    processes = servers.Processes()
    try:
        port, pid = servers.start_raw(processes)
        yield SeedTarget(name="raw", url=f"ws://127.0.0.1:{port}", pid=pid)
    finally:
        processes.stop_all()


def test_a_message_reaches_every_member_of_its_room_and_no_other(raw_target):
    async def scenario():
        alice = await loadgen.open_member(raw_target, "lobby", 0)
        bob = await loadgen.open_member(raw_target, "lobby", 1)
        elsewhere = await loadgen.open_member(raw_target, "attic", 0)
        await alice.send(raw_target.message("hello", "c1").decode())
        for member in (alice, bob):
            frame = orjson.loads(await asyncio.wait_for(member.recv(), 10))
            assert raw_target.delivered_text(frame) == "hello"
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(elsewhere.recv(), 0.5)
        for socket in (alice, bob, elsewhere):
            await socket.close()

    asyncio.run(scenario())


def test_a_path_that_is_no_room_is_refused(raw_target):
    async def scenario():
        socket = await loadgen.connect(raw_target.url + "/elsewhere/", ping_interval=None)
        with pytest.raises(Exception, match="4404"):
            await asyncio.wait_for(socket.recv(), 10)

    asyncio.run(scenario())


def test_the_table_shows_parley_against_raw_with_each_target_met_or_not():
    raw = {"lossless_per_s": 12000, "p50_ms": 3.0, "p99_ms": 20.0, "burst_per_s": 700}
    parley = {"lossless_per_s": 9000, "p50_ms": 12.0, "p99_ms": 40.0, "burst_per_s": 400}
    printed = table({"raw": raw, "parley": parley})
    assert "| lossless deliveries/s | 0.75x | at least 0.7x | yes |" in printed
    assert "| p50 at 2500/s (ms) | 4.00x | at most 3.0x | no |" in printed
    assert "| p99 at 2500/s (ms) | 2.00x | at most 3.0x | yes |" in printed
    assert "| burst connects/s | 0.57x | at least 0.5x | yes |" in printed
    assert "4.0x higher" in printed  # the p50 column of the side-by-side table


def test_the_table_says_whether_an_idle_socket_kept_within_its_memory_goal():
    raw = {"idle_kb": 10.8}
    assert "| memory per idle socket | 19.4 KB | at most 20 KB | yes |" in table(
        {"raw": raw, "parley": {"idle_kb": 19.4}}
    )
    assert "| memory per idle socket | 31.6 KB | at most 20 KB | no |" in table(
        {"raw": raw, "parley": {"idle_kb": 31.6}}
    )


def test_idle_clients_past_one_source_addresss_ports_come_from_the_next_one():
    assert source_address(0) is None
    assert source_address(PORTS_PER_SOURCE - 1) is None
    assert source_address(PORTS_PER_SOURCE) == ("127.0.0.2", 0)
    assert source_address(2 * PORTS_PER_SOURCE + 5) == ("127.0.0.3", 0)


def test_the_table_gives_what_a_message_cost_redis_and_postgresql():
    costs = {"redis_commands": 2.5, "redis_publishes": 1.0, "redis_bytes_in": 410.0}
    costs |= {"redis_bytes_out": 1300.0, "pg_commits": 0.2, "pg_rows_inserted": 1.0}
    printed = table({"parley": {"per_message": costs | {"pg_rows_updated": 0.2}}})
    assert "| Redis PUBLISHes | 1.00 |" in printed
    assert "| PostgreSQL commits | 0.20 |" in printed
