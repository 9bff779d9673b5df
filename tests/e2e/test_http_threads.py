"""A burst of slow HTTP requests against a real daphne worker: it holds no more database
connections than it has HTTP threads (plus its sockets' one), and a request that waits too long
for a thread is answered 503 `unavailable` with `Retry-After`, never 500
(core/http_threads.py)."""

import asyncio
import threading
import time
import uuid
from collections.abc import Callable

import httpx
import psycopg
import pytest
from django.db import connection

from config.embedded import database_url
from tests.support.factories import make_site
from tests.support.processes import Daphne, parley_environment

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

THREADS = 4
REQUESTS = 40
HOLD_AT_MOST = 30  # seconds the threads are held at most: a bound for a hung test
SOCKETS_THREAD = 1  # core.db_thread's connection, and the worker's start-up checks


def psycopg_uri() -> str:
    fields = connection.settings_dict
    return (
        f"host={fields['HOST']} port={fields['PORT']} user={fields['USER']} dbname={fields['NAME']}"
    )


def worker_environment(application_name: str, **overrides: str) -> dict[str, str]:
    url = f"{database_url(connection.settings_dict)}?application_name={application_name}"
    environment = parley_environment(
        DATABASE_URL=url, PARLEY_WIDGET_SESSION_RATE_PER_IP="100000", **overrides
    )
    environment.pop("REDIS_URL", None)
    return environment


class ConnectionCount:
    """The most PostgreSQL connections one application name held at once, sampled every 20 ms."""

    def __init__(self, application_name: str):
        self.application_name = application_name
        self.most = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        with psycopg.connect(psycopg_uri(), autocommit=True) as db:
            while not self._stop.is_set():
                (count,) = db.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s",
                    [self.application_name],
                ).fetchone()
                self.most = max(self.most, count)
                time.sleep(0.02)

    def __enter__(self) -> "ConnectionCount":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


async def burst(worker: Daphne, site_key: str, origin: str, release: Callable[[], None]) -> list:
    """The burst's answers, the answer to /healthz sent while every thread is busy, and
    whether that answer came before the threads were released.

    The threads stay held (`release` not called) until the worker has turned a request away
    and answered the liveness probe, or HOLD_AT_MOST: on a busy machine the requests may take a
    while to queue up, and a lock released on a timer could free the threads first."""
    limits = httpx.Limits(max_connections=REQUESTS + 1, max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=worker.url, limits=limits, timeout=60) as client:

        async def liveness_meanwhile() -> httpx.Response:
            await asyncio.sleep(0.5)
            return await client.get("/healthz", timeout=HOLD_AT_MOST)

        posts = [
            asyncio.create_task(
                client.post(
                    "/api/widget/v1/session",
                    json={"site_key": site_key},
                    headers={"Origin": origin, "Host": f"localhost:{worker.port}"},
                )
            )
            for _ in range(REQUESTS)
        ]
        liveness = asyncio.create_task(liveness_meanwhile())
        deadline = time.monotonic() + HOLD_AT_MOST

        def turned_away() -> bool:
            return any(
                post.done() and not post.exception() and post.result().status_code == 503
                for post in posts
            )

        while not (turned_away() and liveness.done()) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        answered_while_held = liveness.done()
        await asyncio.to_thread(release)
        return [*await asyncio.gather(*posts, liveness), answered_while_held]


def test_a_burst_of_slow_requests_holds_no_more_connections_than_threads(tenant_a):
    site = make_site(tenant_a)
    application_name = f"parley-e2e-{uuid.uuid4().hex[:8]}"
    environment = worker_environment(
        application_name, PARLEY_HTTP_THREADS=str(THREADS), PARLEY_HTTP_THREAD_WAIT="1"
    )
    with Daphne(environment=environment) as worker, ConnectionCount(application_name) as count:
        # Every session stores a visitor; while the table is locked each request holds its
        # thread (and that thread's connection) waiting, as slow queries would.
        with psycopg.connect(psycopg_uri()) as locker:
            locker.execute(f'LOCK TABLE "{tenant_a.schema_name}".widget_visitor IN EXCLUSIVE MODE')
            *answers, liveness, liveness_while_held = asyncio.run(
                burst(worker, site.key, site.origin, release=locker.rollback)
            )
        after = httpx.post(
            f"{worker.url}/api/widget/v1/session",
            json={"site_key": site.key},
            headers={"Origin": site.origin, "Host": f"localhost:{worker.port}"},
        )

    statuses = sorted(answer.status_code for answer in answers)
    assert set(statuses) <= {200, 503}, statuses
    for answer in answers:
        if answer.status_code == 503:
            assert answer.json()["error"]["code"] == "unavailable"
            assert int(answer.headers["Retry-After"]) >= 1
    assert 503 in statuses  # 40 requests, 4 threads held: those waiting past 1 s turned away
    assert 200 in statuses
    assert count.most <= THREADS + SOCKETS_THREAD, count.most
    assert after.status_code == 200, after.text
    assert liveness.status_code == 200  # the liveness probe needs no thread:
    assert liveness_while_held  # it was answered while every thread was held
