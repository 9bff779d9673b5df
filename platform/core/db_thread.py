"""The database thread of a worker's sockets: every unit of DB work that async code needs (the
consumers, the message writer, the socket handshakes, the site and plan lookups behind them).

django-tenants keeps the schema on the thread's database connection. So async code never sets a
tenant: it hands one sync unit of work to `in_tenant` (or `in_public` for the public schema),
which runs it inside `schema_context(schema)` on this thread; the context puts back the schema the
thread had before, so no tenant is left for the next unit.

The units run on a thread of their own rather than through Channels' `database_sync_to_async`
(asgiref's machinery costs about 90 µs of the event loop's time per call, and it runs Django's
`close_old_connections()` around every call; with `CONN_HEALTH_CHECKS` that is one `SELECT 1`
round trip before each unit, as many as the unit itself for a socket's `auth`). Here a kept
connection is checked without a round trip: a PostgreSQL server that restarted or dropped the
connection has sent its last error and closed its socket, which then reads as ready while the
connection is idle. Such a connection is closed, and the unit opens a new one. Django's other
rules (`CONN_MAX_AGE`, a connection left broken by an error) apply as before.
"""

import asyncio
import contextvars
import select
from concurrent.futures import ThreadPoolExecutor

from django.db import DatabaseError, close_old_connections, connections
from django_tenants.utils import get_public_schema_name, schema_context
from psycopg import OperationalError
from psycopg.pq import ConnStatus

from core.db_timeouts import is_database_timeout
from core.errors import Unavailable


def _server_closed(raw) -> bool:
    """Whether the server has closed this idle psycopg connection, asked of its socket: an idle
    connection has nothing to read unless the server is going (its last error, then the end of
    file). A rare message that is no farewell (a notice) costs a reconnect, nothing more."""
    pgconn = raw.pgconn
    if pgconn.status != ConnStatus.OK:
        return True
    try:
        poll = select.poll()  # not select.select(): a busy worker's descriptors pass 1024
        poll.register(pgconn.socket, select.POLLIN)
        return bool(poll.poll(0))
    except (OperationalError, OSError):
        return True


def _replace_closed_connections() -> None:
    """Before a unit: the socket check above, in place of Django's `SELECT 1`."""
    for connection in connections.all(initialized_only=True):
        if connection.connection is None or connection.in_atomic_block:
            continue
        if _server_closed(connection.connection):
            connection.close()
        else:
            connection.health_check_done = True


# The one thread every socket's database work runs on (its connection is the worker's socket
# connection to PostgreSQL). One thread: units never wait on each other's locks in Python, and the
# connection stays warm; the message writer batches so that one thread keeps up (widget.writer).
_database_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="parley-db")


def _unit(schema_name: str, function, kwargs: dict):
    _replace_closed_connections()
    try:
        with schema_context(schema_name):
            return function(**kwargs)
    except DatabaseError as error:
        if is_database_timeout(error):
            # A lock or statement past its timeout (core/db_timeouts.py): the caller's typed
            # answer (an `error` frame `unavailable`, or close 1013), not a server error.
            raise Unavailable(retry_after=1) from error
        raise
    finally:
        close_old_connections()  # Django's rules: CONN_MAX_AGE, broken after an error


async def in_public(function, **kwargs):
    """Run `function(**kwargs)` in the public schema on the database thread."""
    return await in_tenant(get_public_schema_name(), function, **kwargs)


async def in_tenant(schema_name: str, function, **kwargs):
    """Run `function(**kwargs)` in the tenant's schema on the database thread, with the caller's
    context (its log fields)."""
    loop = asyncio.get_running_loop()
    context = contextvars.copy_context()
    return await loop.run_in_executor(
        _database_thread, context.run, _unit, schema_name, function, kwargs
    )
