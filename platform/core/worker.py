"""The one command line that starts a Parley worker: `core.serve` (daphne with the graceful
drain) on `config.asgi:application`. `make run`, the end-to-end tests and the benchmark start
their workers with it, so all of them run what production runs (infra/Dockerfile's CMD adds
the production timeouts and proxy headers to the same command)."""

import sys


def worker_command(*, bind: str, port: int) -> list[str]:
    """The argv of one worker listening on `bind`:`port`, run by this Python."""
    return [
        sys.executable,
        "-m",
        "core.serve",
        "-v",
        "0",  # no daphne access log: it prints query strings (core/access_log.py)
        "-b",
        bind,
        "-p",
        str(port),
        "config.asgi:application",
    ]
