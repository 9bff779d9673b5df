"""A member whose access changes keeps no agent socket (PROTOCOL.md, Agent socket): signing out,
removal from the team, another role and a new password close the member's open sockets with 4410
at once, each done through the dashboard's own forms (the Django test client on the tenant's
host); a session that ends without any of them (it expires, or another path deletes it or changes
the member) is found by the socket's own re-read of its session. Across workers:
tests/e2e/test_agent_access_workers.py."""

import re

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone
from django_tenants.utils import schema_context

from accounts.models import Role, User
from tests.security.support import PASSWORD
from tests.support.factories import another_session, make_agent
from tests.support.sockets import agent_joined, agent_socket, closed_with

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fresh_sockets")]

ACCESS_CHANGED = 4410
CLOSE_WITHIN = 30  # seconds: a limit for a hung test, not a measure of speed


@pytest.fixture
def agent(tenant_a):
    return make_agent(tenant_a)


@pytest.fixture
def colleague(tenant_a):
    return make_agent(tenant_a)


@pytest.fixture
def owner(tenant_a):
    return make_agent(tenant_a, role=Role.OWNER)


@pytest.fixture
def quick_recheck(settings):
    """Sockets read their session again every 0.1 s instead of every 30 s."""
    settings.PARLEY_WS = settings.PARLEY_WS | {"ACCESS_RECHECK": 0.1}


@pytest.fixture
def no_recheck(settings):
    """Sockets never read their session again within a test: only the close order can close."""
    settings.PARLEY_WS = settings.PARLEY_WS | {"ACCESS_RECHECK": 3600}


def browser(member) -> Client:
    """The member's browser on the tenant's host, signed in with the member's session."""
    client = Client(HTTP_HOST=member.host)
    client.cookies[settings.SESSION_COOKIE_NAME] = member.session_key
    return client


async def post(client: Client, path: str, data: dict | None = None):
    return await sync_to_async(client.post)(path, data or {})


async def admitted(member) -> bool:
    """Whether a new agent socket of this session is let in now."""
    socket = agent_socket(member)
    connected, _ = await socket.connect()
    if connected:
        await socket.disconnect()
    return connected


@pytest.mark.usefixtures("no_recheck")
async def test_signing_out_closes_the_members_agent_socket(agent):
    socket = await agent_joined(agent)
    assert (await post(browser(agent), "/logout/")).status_code == 302
    assert await closed_with(socket, timeout=CLOSE_WITHIN) == ACCESS_CHANGED
    assert not await admitted(agent)


@pytest.mark.usefixtures("no_recheck")
async def test_a_sign_out_elsewhere_lets_the_members_other_session_straight_back(tenant_a, agent):
    laptop = await agent_joined(agent)
    phone_session = await database_sync_to_async(another_session)(tenant_a, agent)
    phone = await agent_joined(phone_session)
    await post(browser(phone_session), "/logout/")
    # The order names the member, not one session: both sockets close...
    assert await closed_with(phone, timeout=CLOSE_WITHIN) == ACCESS_CHANGED
    assert await closed_with(laptop, timeout=CLOSE_WITHIN) == ACCESS_CHANGED
    # ...and the laptop's session, still good, is admitted again at once.
    assert not await admitted(phone_session)
    assert await admitted(agent)


@pytest.mark.usefixtures("no_recheck")
async def test_removal_from_the_team_closes_the_members_agent_socket(agent, owner):
    socket = await agent_joined(agent)
    removed = await post(browser(owner), f"/team/{agent.user_id}/remove/")
    assert removed.status_code == 302
    assert await closed_with(socket, timeout=CLOSE_WITHIN) == ACCESS_CHANGED
    assert not await admitted(agent)


@pytest.mark.usefixtures("no_recheck")
async def test_a_new_role_closes_the_members_agent_socket(agent, owner):
    socket = await agent_joined(agent)
    changed = await post(browser(owner), f"/team/{agent.user_id}/role/", {"role": Role.ADMIN})
    assert changed.status_code == 302
    assert await closed_with(socket, timeout=CLOSE_WITHIN) == ACCESS_CHANGED
    assert await admitted(agent)  # still a member: back in, under the new role


@pytest.mark.usefixtures("no_recheck")
async def test_a_password_reset_closes_the_members_agent_socket(agent, mailoutbox):
    socket = await agent_joined(agent)
    other_browser = Client(HTTP_HOST=agent.host)
    await post(other_browser, "/password-reset/", {"email": agent.email})
    link = re.search(r"http://[^/\s]+(/reset/\S+/)", mailoutbox[0].body).group(1)
    form = await sync_to_async(other_browser.get)(link, follow=True)
    new_password = {"new_password1": PASSWORD, "new_password2": PASSWORD}
    done = await post(other_browser, form.redirect_chain[-1][0], new_password)
    assert done.status_code == 302
    assert await closed_with(socket, timeout=CLOSE_WITHIN) == ACCESS_CHANGED
    assert not await admitted(agent)  # the old session's auth hash no longer matches


def _expire_session(session_key: str, user_id: int) -> None:
    Session.objects.filter(session_key=session_key).update(expire_date=timezone.now())


def _delete_session(session_key: str, user_id: int) -> None:
    Session.objects.filter(session_key=session_key).delete()


def _deactivate(session_key: str, user_id: int) -> None:
    User.objects.filter(pk=user_id).update(is_active=False)


def _new_password_elsewhere(session_key: str, user_id: int) -> None:
    user = User.objects.get(pk=user_id)
    user.set_password("set-from-a-shell-42")
    user.save()


def _new_role_elsewhere(session_key: str, user_id: int) -> None:
    User.objects.filter(pk=user_id).update(role=Role.ADMIN)


@pytest.mark.usefixtures("quick_recheck")
@pytest.mark.parametrize(
    "change",
    [_expire_session, _delete_session, _deactivate, _new_password_elsewhere, _new_role_elsewhere],
)
async def test_a_session_ended_without_an_event_is_found_by_the_sockets_recheck(
    tenant_a, agent, colleague, change
):
    steady = await agent_joined(colleague)
    socket = await agent_joined(agent)

    @database_sync_to_async
    def changed_in_the_database():
        with schema_context(tenant_a.schema_name):
            change(agent.session_key, agent.user_id)

    await changed_in_the_database()
    assert await closed_with(socket, timeout=CLOSE_WITHIN) == ACCESS_CHANGED
    # The steady socket connected first, so its re-read ran before the closed one's: a session
    # that is still good keeps its socket.
    await steady.send_json_to({"type": "ping"})
    assert await steady.receive_json_from(timeout=CLOSE_WITHIN) == {"type": "pong"}
    await steady.disconnect()
