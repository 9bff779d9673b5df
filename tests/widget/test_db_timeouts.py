"""A chat socket whose database work meets a lock held past PARLEY_DB_LOCK_TIMEOUT gets the
documented answer within the timeout (an `error` frame `unavailable`, the socket open; or close
1013 at `auth`), never a hung socket or 1011 (core/db_timeouts.py, core/db_thread.py)."""

import asyncio
import contextlib
import time

import psycopg
import pytest
from django.conf import settings

from tests.core.test_db_timeouts import psycopg_uri
from tests.support.sockets import chat_socket, closed_with, expect, joined

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fresh_sockets")]

LOCK_TIMEOUT = settings.DB_LOCK_TIMEOUT


@contextlib.contextmanager
def table_locked(schema: str, table: str, mode: str):
    """Another connection's open transaction holding a table of the tenant (as an operator's
    session or a migration would); released on exit."""
    with psycopg.connect(psycopg_uri()) as locker:
        locker.execute(f'LOCK TABLE "{schema}".{table} IN {mode} MODE')
        yield
        locker.rollback()


async def test_a_message_meeting_a_lock_is_refused_unavailable_and_the_socket_stays(
    tenant_a, site, visitor
):
    socket = await joined(site, visitor)
    frame = {"type": "message", "client_id": "c1", "text": "hello"}
    with table_locked(tenant_a.schema_name, "widget_message", "EXCLUSIVE"):
        started = time.monotonic()
        await socket.send_json_to(frame)
        error = await expect(socket, lambda f: f["type"] in ("error", "ack"), timeout=30)
        waited = time.monotonic() - started
    assert error["type"] == "error", error
    assert error["code"] == "unavailable"
    assert error["client_id"] == "c1"
    assert waited < LOCK_TIMEOUT + 5
    # The socket stayed open: the resend is stored once the lock is gone.
    await socket.send_json_to(frame)
    ack = await expect(socket, lambda f: f["type"] == "ack", timeout=10)
    assert ack["client_id"] == "c1"
    await socket.disconnect()


async def test_an_auth_meeting_a_lock_closes_1013(tenant_a, site, visitor):
    socket = chat_socket(site, visitor.room)
    connected, _ = await socket.connect()
    assert connected
    with table_locked(tenant_a.schema_name, "widget_conversation", "ACCESS EXCLUSIVE"):
        await socket.send_json_to({"type": "auth", "token": visitor.token})
        code = await asyncio.wait_for(closed_with(socket, timeout=30), timeout=30)
    assert code == 1013
