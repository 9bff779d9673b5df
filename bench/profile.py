"""Where a Parley worker's time goes: py-spy profiles of one worker, per message and per connect.

    python bench/profile.py [--rate 15000] [--seconds 15] [--burst 1000] [--out artifacts/profile]

Starts Parley as `make bench` does (core.serve, Redis, PostgreSQL, the benchmark tenant), then:

- per message: a fan-out step at `--rate` deliveries/s (5 rooms of 10 members, as in the
  benchmark; about 70% of the worker's lossless rate) while py-spy records the worker;
- per connect: `--rounds` bursts of `--burst` sockets (each until `ready`) while py-spy records.

py-spy samples only the thread holding the GIL (`--gil`): a thread waiting for it (the event
loop while the database thread runs Django and psycopg) would otherwise show its waits as the
line it stands on. Each profile is written as py-spy's raw (collapsed) stacks,
`<out>-message.txt` and `<out>-connect.txt` (flamegraph.pl or speedscope draw them), and summed
up here: each thread's share of the GIL's samples, and whether it was working or waiting (in
`select`, on PostgreSQL), then the functions that take most of the event loop's working
samples, counted where they appear in a stack (inclusive) and where the sample was taken (own).
"""

import argparse
import asyncio
import collections
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "platform")]

from bench import loadgen, servers  # noqa: E402
from bench.targets import ParleyTarget  # noqa: E402

# A sample whose innermost frame is one of these is a thread waiting, not working.
WAITING = ("select (selectors.py", "wait (threading.py", "get (queue.py", "_worker (thread.py")
WAITING_ON_POSTGRESQL = "wait (psycopg"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=float, default=15000.0, help="offered deliveries/s")
    parser.add_argument("--seconds", type=float, default=15.0, help="length of the recording")
    parser.add_argument("--burst", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", type=Path, default=ROOT / "artifacts" / "profile")
    parser.add_argument("--top", type=int, default=25)
    return parser.parse_args()


def record(pid: int, seconds: float, path: Path) -> subprocess.Popen:
    """py-spy on the worker for `seconds`, without stopping it (--nonblocking)."""
    command = [str(Path(sys.executable).parent / "py-spy"), "record", "--pid", str(pid)]
    command += ["--duration", str(int(seconds)), "--rate", "250", "--format", "raw"]
    command += ["--nonblocking", "--gil", "--output", str(path)]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def frame_name(frame: str) -> str:
    """`push (widget/consumers/base.py:324)` -> `push (base.py)`."""
    function, _, where = frame.partition(" (")
    return f"{function} ({where.rsplit('/', 1)[-1].split(':')[0]}"


DATABASE_FRAMES = ("db_thread.py", "psycopg/", "django/db/", "hot_sql.py", "_worker (thread.py")


def thread_of(frames: list[str]) -> str:
    """Which thread a sample is of. py-spy now and then gives a stack cut short of its thread's
    first frames, so a stack is told by what it runs: the database thread runs units of Django
    and psycopg, the event loop everything else of the worker."""
    if frames[0].startswith("_run_module_as_main"):
        return "event loop"
    if frames[0].startswith("Thread._bootstrap") and not any(
        part in f for f in frames for part in DATABASE_FRAMES
    ):
        return "other threads"
    if any(part in f for f in frames for part in DATABASE_FRAMES):
        return "database thread"
    return "event loop"


def summary(path: Path, top: int) -> str:
    threads: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    inclusive: collections.Counter = collections.Counter()
    own: collections.Counter = collections.Counter()
    loop_busy = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        thread = thread_of(frames)
        leaf = frames[-1]
        state = "waiting" if any(w in leaf for w in WAITING) else "busy"
        if WAITING_ON_POSTGRESQL in leaf:
            state = "waiting on PostgreSQL"
        threads[thread][state] += int(count)
        if state == "busy" and thread == "event loop":
            loop_busy += int(count)
            own[frame_name(leaf)] += int(count)
            for name in {frame_name(f) for f in frames}:
                inclusive[name] += int(count)
    lines = []
    for thread, states in sorted(threads.items(), key=lambda t: -t[1].total()):
        shares = ", ".join(f"{state} {n / states.total():.0%}" for state, n in states.items())
        lines.append(f"  {thread}: {states.total()} samples ({shares})")
    lines.append(f"  event loop, busy samples: {loop_busy}")
    lines.append("  inclusive:")
    shown = [(n, c) for n, c in inclusive.most_common() if c < loop_busy * 0.98][:top]
    for name, count in shown:
        lines.append(f"    {count / max(loop_busy, 1):6.1%}  {name}")
    lines.append("  own:")
    for name, count in own.most_common(top):
        lines.append(f"    {count / max(loop_busy, 1):6.1%}  {name}")
    return "\n".join(lines)


async def profile(target: ParleyTarget, args) -> None:
    rooms = await loadgen.open_rooms(target, 5, 10)
    try:
        await loadgen.fanout_step(target, rooms, 1000.0, 1.0, 15.0)  # warm-up
        spy = record(target.pid, args.seconds, args.out.with_name(args.out.name + "-message.txt"))
        await asyncio.sleep(0.5)
        step = await loadgen.fanout_step(target, rooms, args.rate, args.seconds, 15.0)
        await asyncio.to_thread(spy.wait)
        print(
            f"per message: offered {args.rate:.0f}/s, achieved {step.achieved:.0f}/s, "
            f"lost {step.lost}, p50 {step.p50_ms:.1f} ms, p99 {step.p99_ms:.1f} ms"
        )
    finally:
        await loadgen.close_rooms(rooms)
    await asyncio.sleep(1)
    seconds = 4.0 * args.rounds
    spy = record(target.pid, seconds, args.out.with_name(args.out.name + "-connect.txt"))
    await asyncio.sleep(0.5)
    started = time.monotonic()
    for _ in range(args.rounds):
        burst = await loadgen.burst(target, args.burst)
        print(f"per connect: {burst.accepted}/{burst.clients} in {burst.seconds:.2f} s")
        await asyncio.sleep(1)
    await asyncio.sleep(max(0.0, seconds - (time.monotonic() - started)))
    await asyncio.to_thread(spy.wait)


def main() -> None:
    args = parse_args()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    loadgen.raise_fd_limit()
    processes = servers.Processes()
    try:
        redis_url = servers.start_redis(processes)
        from config.embedded import database_url, embedded_postgres_settings

        database = database_url(embedded_postgres_settings(servers.ROOT / ".data" / "postgres"))
        env = servers.parley_environment(redis_url, database)
        rooms = {f"bench{r}": 10 for r in range(5)}
        rooms |= {f"burst{i}": 50 for i in range((args.burst + 49) // 50)}
        fixture = servers.setup_parley(env, rooms)
        port, pid = servers.start_parley(processes, env)
        target = ParleyTarget(
            name="parley",
            url=f"ws://127.0.0.1:{port}",
            site_key=fixture["site_key"],
            allowed_origin=servers.BENCH_ORIGIN,
            tokens=fixture["tokens"],
            pid=pid,
        )
        asyncio.run(profile(target, args))
    finally:
        processes.stop_all()
    for kind in ("message", "connect"):
        path = args.out.with_name(f"{args.out.name}-{kind}.txt")
        print(f"\nper {kind} ({path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}):")
        print(summary(path, args.top) if path.exists() else "  (no profile written)")


if __name__ == "__main__":
    main()
