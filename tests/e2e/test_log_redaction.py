"""A full session against a real worker logging at DEBUG: widget session, chat socket, messages,
the site-key API, a dashboard login and the agent socket. The worker's whole output names the
tenant and the request ids, and never carries a credential."""

import asyncio
import hashlib
import hmac
import json
import re

import httpx
import pytest
import websockets
from django.db import connection
from django_tenants.utils import tenant_context

from accounts.models import Role, User
from config.embedded import database_url
from tenants.services import api_key_create
from tests.support.factories import ORIGIN, make_site
from tests.support.processes import Daphne, parley_environment

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct-horse-battery-staple-42"


def test_a_full_session_logs_ids_and_no_credential(tenant_a):
    site = make_site(tenant_a)
    identity_secret = site.site.identity_secret
    _, api_key = api_key_create(tenant=tenant_a, name="logs")
    with tenant_context(tenant_a):
        User.objects.create_user(email="owner@alpha.test", password=PASSWORD, role=Role.OWNER)
    environment = parley_environment(
        DATABASE_URL=database_url(connection.settings_dict), LOG_LEVEL="DEBUG", LOG_JSON="true"
    )
    environment.pop("REDIS_URL", None)
    worker = Daphne(environment=environment).start()
    secrets: dict[str, str] = {
        "site key": site.key,
        "api key": api_key,
        "identity secret": identity_secret,
        "password": PASSWORD,
    }
    try:
        platform = httpx.Client(base_url=worker.url, headers={"Host": f"localhost:{worker.port}"})
        dashboard_host = f"{tenant_a.slug}.localhost:{worker.port}"
        dashboard = httpx.Client(base_url=worker.url, headers={"Host": dashboard_host})

        # The widget's session, for an identified user.
        user_hash = hmac.new(identity_secret.encode(), b"user-7", hashlib.sha256).hexdigest()
        started = platform.post(
            "/api/widget/v1/session",
            json={"site_key": site.key, "user": {"id": "user-7", "hash": user_hash}},
            headers={"Origin": ORIGIN},
        )
        assert started.status_code == 200, started.text
        session = started.json()
        secrets |= {"visitor token": session["token"], "identity hash": user_hash}

        async def chat() -> None:
            url = (
                f"ws://127.0.0.1:{worker.port}/ws/chat/{session['conversation']}/"
                f"?site_key={site.key}"
            )
            async with websockets.connect(url, origin=ORIGIN) as socket:
                await socket.send(json.dumps({"type": "auth", "token": session["token"]}))
                assert json.loads(await socket.recv())["type"] == "ready"
                await socket.send(json.dumps({"type": "message", "client_id": "c1", "text": "hi"}))
                frames = [json.loads(await socket.recv()) for _ in range(2)]
                assert {frame["type"] for frame in frames} == {"ack", "message"}
            # A bad token is refused and logged, without the token.
            async with websockets.connect(url, origin=ORIGIN) as socket:
                await socket.send(json.dumps({"type": "auth", "token": session["token"] + "x"}))
                with pytest.raises(websockets.ConnectionClosed):
                    await socket.recv()

        asyncio.run(chat())

        # The site-key API, with the key in the Authorization header (and once a wrong one).
        api = platform.get("/api/v1/conversations", headers={"Authorization": f"Bearer {api_key}"})
        assert api.status_code == 200, api.text
        wrong = platform.get("/api/v1/sites", headers={"Authorization": f"Bearer {api_key}x"})
        assert wrong.status_code == 401

        # The dashboard: a failed then a successful login, a page, the agent socket.
        login_page = dashboard.get("/login/")
        csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login_page.text)[1]
        form = {"username": "owner@alpha.test", "csrfmiddlewaretoken": csrf}
        refused = dashboard.post("/login/", data=form | {"password": PASSWORD[::-1]})
        assert refused.status_code == 200
        signed_in = dashboard.post("/login/", data=form | {"password": PASSWORD})
        assert signed_in.status_code == 302, signed_in.text
        session_cookie = dashboard.cookies["sessionid"]
        secrets |= {"session cookie": session_cookie, "csrf token": dashboard.cookies["csrftoken"]}
        assert dashboard.get("/").status_code == 200

        async def agent() -> None:
            async with websockets.connect(
                f"ws://{dashboard_host}/ws/agent/",
                host="127.0.0.1",
                port=worker.port,
                origin=f"http://{dashboard_host}",
                additional_headers={"Cookie": f"sessionid={session_cookie}"},
            ) as socket:
                assert json.loads(await socket.recv())["type"] == "ready"

        asyncio.run(agent())
    finally:
        worker.stop()

    output = worker.log_path.read_text()
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    requests = [line for line in lines if line.get("event") == "http_request"]
    assert len(requests) >= 7
    assert all(line.get("request_id") for line in requests)
    assert {line.get("tenant_id") for line in requests if line["path"] == "/login/"} == {
        tenant_a.id
    }
    assert any(line.get("connection_id") and line.get("tenant_id") for line in lines)
    for name, secret in secrets.items():
        assert secret not in output, f"the {name} is in the worker's log"
