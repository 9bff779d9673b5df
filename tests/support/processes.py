"""Starting real Parley processes (daphne) for end-to-end tests."""

import os
import socket
import subprocess
import time
from pathlib import Path

import httpx

from core.worker import worker_command

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def parley_environment(**overrides: str) -> dict[str, str]:
    environment = dict(os.environ)
    environment["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(ROOT / "platform")])
    environment.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    environment.update(overrides)
    return environment


class Daphne:
    """A daphne worker serving Parley on a free loopback port, stopped on exit."""

    def __init__(self, *, environment: dict[str, str], port: int | None = None):
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = Path(os.environ.get("TMPDIR", "/tmp")) / f"parley-daphne-{self.port}.log"
        self._environment = environment
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 60) -> "Daphne":
        log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            worker_command(bind="127.0.0.1", port=self.port),
            cwd=ROOT,
            env=self._environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"daphne exited: {self.log_path.read_text()[-3000:]}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.1)
        raise TimeoutError(f"daphne did not answer /healthz: {self.log_path.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self) -> "Daphne":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
