"""The database thread's check of a kept connection (core.db_thread): no round trip, yet a
connection the server has closed is found and replaced, whatever its file descriptor."""

import os
import resource
import time

import psycopg
import pytest
from django.db import connection

from config.embedded import database_url
from core.db_thread import _server_closed

pytestmark = pytest.mark.django_db


def open_connection():
    return psycopg.connect(database_url(connection.settings_dict), autocommit=True)


def terminate(pid: int) -> None:
    with open_connection() as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])
    time.sleep(0.2)  # the server's farewell reaches the socket


def test_a_live_idle_connection_passes_and_a_terminated_one_is_caught():
    with open_connection() as kept:
        assert _server_closed(kept) is False
        kept.execute("SELECT 1")
        assert _server_closed(kept) is False  # nothing left to read after an answer
        terminate(kept.info.backend_pid)
        assert _server_closed(kept) is True


def test_the_check_works_past_file_descriptor_1024():
    """A busy worker holds thousands of sockets: its database connection's descriptor is often
    above select()'s limit of 1024."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard < 1200:
        pytest.skip("this machine allows fewer than 1,200 open files")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 1200), hard))
    filler = [os.open(os.devnull, os.O_RDONLY) for _ in range(1100)]
    try:
        with open_connection() as kept:
            assert kept.pgconn.socket > 1024
            assert _server_closed(kept) is False
            terminate(kept.info.backend_pid)
            assert _server_closed(kept) is True
    finally:
        for fd in filler:
            os.close(fd)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
