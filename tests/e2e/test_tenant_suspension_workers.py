"""Two daphne workers, one Redis, real WebSocket clients, and the operator's command run as its
own process (`manage.py tenants suspend`): the suspended tenant's visitor sockets close with 4423
on both workers, its widget sessions are refused with `tenant_suspended` on both, another
tenant's visitor goes on talking, and after `tenants resume` sessions work again. The sockets'
own re-check is pushed out of the test's reach: only the close order fanned out through Redis can
close them."""

import asyncio
import subprocess
import sys
import time

import httpx
import pytest
from django.db import connection

from config.embedded import database_url
from tests.support.factories import make_site, make_visitor
from tests.support.processes import ROOT, Daphne, parley_environment
from tests.support.protocol_client import VisitorClient

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

LIMIT = 30  # seconds: a limit for a hung test, not a measure of speed


def operator(environment: dict, *args: str) -> None:
    subprocess.run(
        [sys.executable, "manage.py", "tenants", *args],
        cwd=ROOT,
        env=environment,
        check=True,
        capture_output=True,
        timeout=LIMIT * 4,
    )


def session_code(worker: Daphne, site) -> str:
    answer = httpx.post(
        f"{worker.url}/api/widget/v1/session",
        json={"site_key": site.key},
        headers={"Origin": site.origin, "Host": "localhost"},
        timeout=LIMIT,
    )
    return "ok" if answer.status_code == 200 else answer.json()["error"]["code"]


def eventually(check, expected: str) -> str:
    deadline = time.monotonic() + LIMIT
    while (answer := check()) != expected and time.monotonic() < deadline:
        time.sleep(0.2)
    return answer


def test_a_suspended_tenant_stops_on_every_worker_and_comes_back_on_resume(
    tenant_a, tenant_b, redis_url
):
    site = make_site(tenant_a)
    other_site = make_site(tenant_b)
    first_visitor, second_visitor = make_visitor(site), make_visitor(site)
    other_visitor = make_visitor(other_site)
    environment = parley_environment(
        REDIS_URL=redis_url,
        PARLEY_FANOUT="redis",
        DATABASE_URL=database_url(connection.settings_dict),
        PARLEY_WS_KEY_RECHECK="3600",
    )

    async def scenario(first: Daphne, second: Daphne) -> tuple[int | None, int | None]:
        on_first = VisitorClient("a1", site, room=first_visitor.room, token=first_visitor.token)
        on_second = VisitorClient("a2", site, room=second_visitor.room, token=second_visitor.token)
        bystander = VisitorClient(
            "b", other_site, room=other_visitor.room, token=other_visitor.token
        )
        await on_first.connect(first.port)
        await on_second.connect(second.port)
        await bystander.connect(first.port)
        await asyncio.to_thread(operator, environment, "suspend", "alpha", "--reason", "test")
        async with asyncio.timeout(LIMIT):
            closes = await on_first.disconnected(), await on_second.disconnected()
        await bystander.send_message("still-here", "the other tenant goes on")
        await bystander.wait_acked(timeout=LIMIT)
        await bystander.stop()
        return closes

    with (
        Daphne(environment=environment) as first,
        Daphne(environment=environment) as second,
    ):
        assert asyncio.run(scenario(first, second)) == (4423, 4423)
        for worker in (first, second):
            assert eventually(lambda w=worker: session_code(w, site), "tenant_suspended") == (
                "tenant_suspended"
            )
            assert session_code(worker, other_site) == "ok"
        operator(environment, "resume", "alpha")
        for worker in (first, second):
            assert eventually(lambda w=worker: session_code(w, site), "ok") == "ok"
