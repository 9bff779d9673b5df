"""Two daphne workers, one Redis, a real WebSocket client: a member's agent socket is open on the
first worker, and the owner removes that member from the team through the dashboard served by the
second (the team page's real form, with its CSRF token). The socket closes with 4410, and its
session is refused when it tries again. The sockets' own re-read of their session is pushed out
of the test's reach, so only the close order fanned out through Redis can close it."""

import asyncio
import re

import httpx
import pytest
import websockets
from django.db import connection

from accounts.models import Role
from config.embedded import database_url
from tests.support.factories import make_agent
from tests.support.processes import Daphne, parley_environment
from tests.support.protocol_client import AgentClient

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

CLOSE_WITHIN = 30  # seconds: a limit for a hung test, not a measure of speed


async def remove_from_the_team(worker: Daphne, owner, member_id: int) -> httpx.Response:
    """The owner's browser on the worker: open the team page, post its remove form."""
    async with httpx.AsyncClient(
        base_url=worker.url,
        headers={"Host": f"{owner.host}:{worker.port}"},
        cookies={"sessionid": owner.session_key},
        timeout=CLOSE_WITHIN,
    ) as browser:
        team = await browser.get("/team/")
        assert team.status_code == 200
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', team.text).group(1)
        return await browser.post(f"/team/{member_id}/remove/", data={"csrfmiddlewaretoken": token})


def test_a_member_removed_on_one_worker_loses_their_socket_on_another(tenant_a, redis_url):
    member = make_agent(tenant_a)
    owner = make_agent(tenant_a, role=Role.OWNER)
    environment = parley_environment(
        REDIS_URL=redis_url,
        PARLEY_FANOUT="redis",
        DATABASE_URL=database_url(connection.settings_dict),
        PARLEY_WS_ACCESS_RECHECK="3600",
    )

    async def scenario(first: Daphne, second: Daphne) -> None:
        socket = AgentClient("member", member)
        await socket.connect(first.port)
        removed = await remove_from_the_team(second, owner, member.user_id)
        assert removed.status_code == 302
        async with asyncio.timeout(CLOSE_WITHIN):
            assert await socket.disconnected() == 4410
        with pytest.raises(websockets.InvalidStatus) as refused:
            await socket.connect(first.port)
        assert refused.value.response.status_code == 403

    with (
        Daphne(environment=environment) as first,
        Daphne(environment=environment) as second,
    ):
        asyncio.run(scenario(first, second))
