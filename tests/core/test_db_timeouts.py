"""A lock held elsewhere past PARLEY_DB_LOCK_TIMEOUT answers 503 `unavailable`, within the
timeout, while another tenant's requests go on (core/db_timeouts.py); migrations run without
the timeouts."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection, connections
from django.db.models.signals import pre_migrate

from tests.support.api_clients import PlatformClient, error_code
from tests.support.factories import make_site

pytestmark = pytest.mark.django_db(transaction=True)

LOCK_TIMEOUT = settings.DB_LOCK_TIMEOUT
HELD_FOR = LOCK_TIMEOUT + 8  # without the timeout, a request waits all of it, then succeeds


def psycopg_uri() -> str:
    fields = connection.settings_dict
    return (
        f"host={fields['HOST']} port={fields['PORT']} user={fields['USER']} dbname={fields['NAME']}"
    )


def session(site):
    """A widget session for the site (it stores a visitor), on this thread's connection."""
    try:
        response = PlatformClient().post_json(
            "/api/widget/v1/session", {"site_key": site.key}, HTTP_ORIGIN=site.origin
        )
        return response, time.monotonic()
    finally:
        connections.close_all()


def timeouts_ms() -> tuple[int, int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name, setting FROM pg_settings "
            "WHERE name IN ('statement_timeout', 'lock_timeout')"
        )
        values = dict(cursor.fetchall())
    return int(values["statement_timeout"]), int(values["lock_timeout"])


CONFIGURED = (round(settings.DB_STATEMENT_TIMEOUT * 1000), round(LOCK_TIMEOUT * 1000))


def test_every_connection_starts_with_the_statement_and_lock_timeouts():
    assert timeouts_ms() == CONFIGURED == (5000, 2000)


def test_a_lock_past_the_lock_timeout_is_503_and_another_tenant_goes_on(tenant_a, tenant_b):
    site_a, site_b = make_site(tenant_a), make_site(tenant_b)
    with psycopg.connect(psycopg_uri()) as locker, ThreadPoolExecutor(1) as pool:
        # An operator's open transaction (or a migration) holding tenant A's visitors.
        locker.execute(f'LOCK TABLE "{tenant_a.schema_name}".widget_visitor IN EXCLUSIVE MODE')
        released = threading.Timer(HELD_FOR, locker.rollback)
        released.start()
        started = time.monotonic()
        waiting = pool.submit(session, site_a)
        time.sleep(0.2)  # A's request is waiting for the lock
        answer_b, b_done = session(site_b)
        answer_a, a_done = waiting.result()
        released.cancel()

    assert answer_b.status_code == 200, answer_b.content
    assert b_done < a_done  # tenant B was answered while tenant A's request waited
    assert answer_a.status_code == 503, answer_a.content
    assert error_code(answer_a) == "unavailable"
    assert answer_a["Retry-After"] == "1"
    assert a_done - started < HELD_FOR - 2  # cut at the lock timeout, not at the lock's end


def test_migrations_run_without_the_timeouts_and_give_them_back():
    during = []

    def record_timeouts(*args, **kwargs):
        during.append(timeouts_ms())

    # Connected after core's own receiver: it sees what the migrations run with.
    pre_migrate.connect(record_timeouts, dispatch_uid="test-record-timeouts")
    try:
        call_command("migrate_schemas", schema_name="public", verbosity=0, interactive=False)
    finally:
        pre_migrate.disconnect(dispatch_uid="test-record-timeouts")
    assert during
    assert set(during) == {(0, 0)}
    assert timeouts_ms() == CONFIGURED
