"""`make bench`: Parley side by side with the raw limit (a bare `websockets` broadcast server,
bench/raw_server.py) and the seed tutorial app, on this machine, in one run.

Each system runs alone while it is measured (the others are stopped), with the same load
generator, the same load shapes and the same Redis. Prints one table; `--json PATH` saves it.
"""

import argparse
import asyncio
import json
import os
import sys
from dataclasses import asdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "platform")]

from bench import loadgen, servers  # noqa: E402
from bench.targets import ParleyTarget, SeedTarget  # noqa: E402

FIXED_LOAD = 2500.0


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rooms", type=int, default=5)
    parser.add_argument("--members", type=int, default=10)
    parser.add_argument(
        "--steps",
        default="1000,2500,5000,10000,15000,20000,30000,40000",
        help="offered deliveries/s, comma-separated",
    )
    parser.add_argument("--seconds", type=float, default=5.0, help="length of each step")
    parser.add_argument("--drain", type=float, default=15.0, help="wait for late deliveries")
    parser.add_argument("--burst", type=int, default=1000)
    parser.add_argument(
        "--burst-rounds", type=int, default=3, help="bursts in a row; the table has the median"
    )
    parser.add_argument("--idle", type=int, default=10000)
    parser.add_argument(
        "--idle-only",
        action="store_true",
        help="only the idle sockets (for a large --idle: docs/PERFORMANCE.md, sockets at scale)",
    )
    parser.add_argument(
        "--targets", default="raw,seed-core,seed-pubsub,parley,parley-async-commit,parley-2w"
    )
    parser.add_argument("--json", type=Path)
    parser.add_argument(
        "--pin",
        action="store_true",
        help="the load generator on CPU 0, the systems under test on the others (taskset's "
        "sched_setaffinity; Redis and PostgreSQL are left where they are)",
    )
    parser.add_argument(
        "--parley-server",
        choices=["daphne", "uvicorn"],
        default="daphne",
        help="serve Parley with core.serve (daphne, the default) or uvicorn, to compare",
    )
    return parser.parse_args()


async def measure(target, args, counters=None) -> dict:
    if args.idle_only:
        idle = await measure_idle(target, args)
        return {"idle_held": idle.held, "idle_kb": idle.bytes_per_connection / 1024}
    steps = []
    rooms = await loadgen.open_rooms(target, args.rooms, args.members)
    try:
        # Warm-up, not counted: first connections to Redis and PostgreSQL, first code paths.
        await loadgen.fanout_step(target, rooms, 1000.0, 1.0, args.drain)
        before = counters() if counters else None
        for offered in [float(s) for s in args.steps.split(",")]:
            step = await loadgen.fanout_step(target, rooms, offered, args.seconds, args.drain)
            steps.append(step)
            print(
                f"  {target.name:12} offered {offered:>8.0f}/s achieved {step.achieved:>8.0f}/s "
                f"lost {step.lost:>7} dup {step.duplicates} p50 {step.p50_ms:7.1f} ms "
                f"p99 {step.p99_ms:7.1f} ms",
                flush=True,
            )
            if not step.lossless or step.achieved < 0.8 * offered:
                break  # saturated or losing: higher rates say nothing more
        per_message = {}
        if counters:
            await asyncio.sleep(1.5)  # PostgreSQL's statistics are flushed every second
            sent = sum(s.sent for s in steps)
            after = counters()
            per_message = {key: (after[key] - before[key]) / sent for key in after}
    finally:
        await loadgen.close_rooms(rooms)
    bursts = []
    for _ in range(args.burst_rounds):
        bursts.append(await loadgen.burst(target, args.burst))
        print(
            f"  {target.name:12} burst {bursts[-1].accepted}/{bursts[-1].clients} "
            f"in {bursts[-1].seconds:.2f} s",
            flush=True,
        )
        await asyncio.sleep(1)  # the closes of the last round are done
    burst = sorted(bursts, key=lambda b: b.per_second)[len(bursts) // 2]  # the median round
    idle = await measure_idle(target, args)
    lossless = [s.achieved for s in steps if s.lossless]
    at_fixed = next((s for s in steps if s.offered == FIXED_LOAD), None)
    return {
        "lossless_per_s": max(lossless, default=0.0),
        "p50_ms": at_fixed.p50_ms if at_fixed else None,
        "p99_ms": at_fixed.p99_ms if at_fixed else None,
        "lost": sum(s.lost for s in steps),
        "burst_accepted": min(b.accepted for b in bursts),
        "burst_clients": burst.clients,
        "burst_per_s": burst.per_second,
        "idle_held": idle.held,
        "idle_kb": idle.bytes_per_connection / 1024,
        "per_message": per_message,
        "steps": [asdict(s) for s in steps],
    }


def backend_counters(redis_url: str, database: str):
    """What the fan-out steps cost Redis and PostgreSQL, read before and after them: Redis
    commands (and PUBLISHes) and bytes in and out, PostgreSQL commits and rows written."""
    import psycopg
    import redis

    def read() -> dict[str, float]:
        client = redis.Redis.from_url(redis_url)
        commands = client.info("commandstats")
        stats = client.info("stats")
        client.close()
        with psycopg.connect(database) as db:
            commits, inserted, updated = db.execute(
                "SELECT xact_commit, tup_inserted, tup_updated FROM pg_stat_database "
                "WHERE datname = current_database()"
            ).fetchone()
        return {
            "redis_commands": sum(c["calls"] for c in commands.values()),
            "redis_publishes": commands.get("cmdstat_publish", {}).get("calls", 0),
            "redis_bytes_in": stats["total_net_input_bytes"],
            "redis_bytes_out": stats["total_net_output_bytes"],
            "pg_commits": commits,
            "pg_rows_inserted": inserted,
            "pg_rows_updated": updated,
        }

    return read


async def measure_idle(target, args) -> loadgen.IdleResult:
    idle = await loadgen.idle(target, args.idle)
    print(
        f"  {target.name:12} idle {idle.held}/{idle.clients}, "
        f"{idle.bytes_per_connection / 1024:.1f} KB each",
        flush=True,
    )
    return idle


def run_target(name: str, args, processes: servers.Processes, redis_url: str) -> dict:
    print(f"{name}:", flush=True)
    first = len(processes.started)  # the processes started before (Redis) outlive the target
    if name == "raw":
        port, pid = servers.start_raw(processes)
        target = SeedTarget(name=name, url=f"ws://127.0.0.1:{port}", pid=pid)
    elif name.startswith("seed-"):
        layer = name.removeprefix("seed-")
        port, pid = servers.start_seed(processes, layer=layer, redis_url=redis_url)
        target = SeedTarget(name=name, url=f"ws://127.0.0.1:{port}", pid=pid)
    else:
        from config.embedded import database_url, embedded_postgres_settings

        database = database_url(embedded_postgres_settings(servers.ROOT / ".data" / "postgres"))
        env = servers.parley_environment(redis_url, database)
        if name == "parley-async-commit":
            # Message commits that do not wait for the disk (docs/PERFORMANCE.md, the risk).
            env["PARLEY_MESSAGES_SYNCHRONOUS_COMMIT"] = "false"
        rooms = {f"bench{r}": args.members for r in range(args.rooms)}
        rooms |= {f"burst{i}": 50 for i in range((args.burst + 49) // 50)}
        rooms |= {f"idle{i}": 100 for i in range((args.idle + 99) // 100)}
        fixture = servers.setup_parley(env, rooms)
        workers = [
            servers.start_parley(processes, env, server=args.parley_server)
            for _ in range(2 if name == "parley-2w" else 1)
        ]
        (port, pid), *more = workers
        target = ParleyTarget(
            name=name,
            url=f"ws://127.0.0.1:{port}",
            site_key=fixture["site_key"],
            allowed_origin=servers.BENCH_ORIGIN,
            tokens=fixture["tokens"],
            pid=pid,
            more_urls=tuple(f"ws://127.0.0.1:{p}" for p, _ in more),
            more_pids=tuple(p for _, p in more),
        )
    started = processes.started[first:]
    if args.pin:  # the target's processes on the CPUs the load generator does not use
        for process in started:
            os.sched_setaffinity(process.pid, SERVER_CPUS)
    counters = backend_counters(redis_url, database) if name.startswith("parley") else None
    try:
        return asyncio.run(measure(target, args, counters))
    finally:
        for process in started:
            processes.stop(process)
            processes.started.remove(process)


ROWS = [
    ("lossless deliveries/s", "lossless_per_s", "{:.0f}"),
    (f"p50 at {FIXED_LOAD:.0f}/s (ms)", "p50_ms", "{:.1f}"),
    (f"p99 at {FIXED_LOAD:.0f}/s (ms)", "p99_ms", "{:.1f}"),
    ("messages lost (all steps)", "lost", "{}"),
    ("burst accepted", "burst_accepted", "{}"),
    ("burst connects/s", "burst_per_s", "{:.0f}"),
    ("idle sockets held", "idle_held", "{}"),
    ("memory per idle socket (KB)", "idle_kb", "{:.1f}"),
]
PER_MESSAGE = [
    ("Redis commands", "redis_commands"),
    ("Redis PUBLISHes", "redis_publishes"),
    ("Redis bytes in", "redis_bytes_in"),
    ("Redis bytes out", "redis_bytes_out"),
    ("PostgreSQL commits", "pg_commits"),
    ("PostgreSQL rows inserted", "pg_rows_inserted"),
    ("PostgreSQL rows updated", "pg_rows_updated"),
]
RATES = ("lossless_per_s", "burst_per_s")  # higher is better
COSTS = ("p50_ms", "p99_ms", "idle_kb")  # lower is better

# Parley against the raw server: (metric, the ratio Parley / raw to reach, at least or at most).
RAW_TARGETS = [
    ("lossless_per_s", 0.7, "at least"),
    ("p50_ms", 3.0, "at most"),
    ("p99_ms", 3.0, "at most"),
    ("burst_per_s", 0.5, "at least"),
]


# With --pin: every CPU but the load generator's.
SERVER_CPUS = set(range(1, os.cpu_count() or 2)) or {0}
IDLE_KB_GOAL = 20  # the websockets library documents about 14 KiB a connection


def comparison(key: str, value, base_value) -> str:
    """Parley's figure against another's, in words that say which way is better."""
    if not value or not base_value:
        return "-" if key in RATES + COSTS else ""
    if key in RATES:
        return f"{value / base_value:.2f}x"
    if key in COSTS:
        if value <= base_value:
            return f"{base_value / value:.1f}x lower"
        return f"{value / base_value:.1f}x higher"
    return ""


def table(results: dict[str, dict]) -> str:
    names = list(results)
    parley = results.get("parley")
    # Parley's variants (parley-async-commit) are columns beside it, not bases to compare with.
    bases = [n for n in names if not n.startswith("parley")] if parley else []
    header = ["metric", *names, *(f"parley / {b}" for b in bases)]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for label, key, fmt in ROWS:
        cells = [label]
        for name in names:
            value = results[name].get(key)
            cells.append("-" if value is None else fmt.format(value))
        cells += [comparison(key, parley.get(key), results[b].get(key)) for b in bases]
        lines.append("| " + " | ".join(cells) + " |")
    costed = [n for n in names if results[n].get("per_message")]
    if costed:
        lines += ["", "| per message sent (fan-out steps) | " + " | ".join(costed) + " |"]
        lines.append("|" + "---|" * (len(costed) + 1))
        for label, key in PER_MESSAGE:
            values = [results[n]["per_message"].get(key) for n in costed]
            lines.append(f"| {label} | " + " | ".join(f"{v:.2f}" for v in values) + " |")
    if parley and "raw" in results:
        lines += ["", "| target | parley / raw | goal | met |", "|---|---|---|---|"]
        labels = {key: label for label, key, _ in ROWS}
        for key, goal, direction in RAW_TARGETS:
            value, base_value = parley.get(key), results["raw"].get(key)
            if not value or not base_value:
                lines.append(f"| {labels[key]} | - | {direction} {goal}x | - |")
                continue
            measured = value / base_value
            met = measured >= goal if direction == "at least" else measured <= goal
            verdict = "yes" if met else "no"
            lines.append(f"| {labels[key]} | {measured:.2f}x | {direction} {goal}x | {verdict} |")
        if parley.get("idle_kb"):
            verdict = "yes" if parley["idle_kb"] <= IDLE_KB_GOAL else "no"
            lines.append(
                f"| memory per idle socket | {parley['idle_kb']:.1f} KB "
                f"| at most {IDLE_KB_GOAL} KB | {verdict} |"
            )
    return "\n".join(lines)


def main() -> None:
    args = parse_args()
    if args.pin:
        os.sched_setaffinity(0, {0})
    loadgen.raise_fd_limit()
    processes = servers.Processes()
    results = {}
    try:
        redis_url = servers.start_redis(processes)
        for name in args.targets.split(","):
            results[name] = run_target(name, args, processes, redis_url)
    finally:
        processes.stop_all()
    print()
    print(table(results))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
