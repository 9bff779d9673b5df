"""How long one statement may run, and one lock be waited for, on a worker's database connections.

Every tenant of a worker shares its few connections (the HTTP threads', the sockets' one). Without
a bound, one statement waiting on a lock (a long migration, an operator's open transaction, a
stuck row) holds its connection for as long as the lock lasts, and every request or socket frame
queued behind that thread waits with it, whatever their tenant. Each connection starts with
PostgreSQL's `statement_timeout` (`PARLEY_DB_STATEMENT_TIMEOUT`, 5 s) and `lock_timeout`
(`PARLEY_DB_LOCK_TIMEOUT`, 2 s), set in the settings as libpq's `options`; 0 turns one off.
PostgreSQL then cancels the statement, and the caller answers `unavailable`
(core.errors.Unavailable: HTTP 503 with `Retry-After`, an `error` frame on a socket, or close
1013 where the socket cannot go on).

Migrations are exempt: they may rightly take longer and wait for locks (a new tenant's schema is
migrated inside its signup request). `migrate` (and django-tenants' `migrate_schemas`, which runs
it per schema) turns both off on its connection before it starts and puts the connection's own
values back when it ends (`pre_migrate`, `post_migrate`).
"""

import psycopg.errors
from django.db import DatabaseError, connections


def is_database_timeout(error: BaseException | None) -> bool:
    """Whether PostgreSQL cancelled the statement behind `error`: past its statement or lock
    timeout (or cancelled by an operator)."""
    cause = error.__cause__ if isinstance(error, DatabaseError) else error
    return isinstance(cause, psycopg.errors.LockNotAvailable | psycopg.errors.QueryCanceled)


def timeouts_off_for_migrations(sender, using: str = "default", **kwargs) -> None:
    with connections[using].cursor() as cursor:
        cursor.execute("SET statement_timeout = 0; SET lock_timeout = 0")


def timeouts_back_after_migrations(sender, using: str = "default", **kwargs) -> None:
    with connections[using].cursor() as cursor:
        cursor.execute("RESET statement_timeout; RESET lock_timeout")
