"""A page of another origin pretending to be an allowed one, against the session endpoint (403
`origin_not_allowed`, no `Access-Control-Allow-Origin`), the chat socket's handshake (HTTP 403
before accept) and the agent socket's same-origin check. The site allows
`https://shop.example.com` and the subdomains of `example.org`.

`Origin` only protects against browsers, which set it and never let a page change it: a script
outside a browser can send any value, which is why the site key grants no more than what a
visitor of an allowed page may do anyway (docs/SECURITY.md).
"""

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from tenants.site_directory import site_cache_clear
from tests.support.api_clients import PlatformClient, error_code
from tests.support.factories import make_agent, make_site
from tests.support.sockets import agent_socket, application

ALLOWED = ["https://shop.example.com", "https://*.example.org"]

SPOOFED = [
    "null",  # sandboxed iframes, file: pages, some redirects
    "",
    "https://shop.example.com.evil.net",  # the allowed host as a prefix
    "https://evilshop.example.com",
    "https://shop.example.com@evil.net",  # userinfo: the host is evil.net
    "https://evil.net@shop.example.com",  # userinfo is never part of an origin
    "https://evil.net#shop.example.com",
    "https://evil.net/shop.example.com",
    "https://evil.net?https://shop.example.com",
    "http://shop.example.com",  # scheme downgrade
    "https://shop.example.com:8443",  # another port is another origin
    "https://shop.example.com.",  # the trailing-dot host is another origin for browsers
    "https://sh\u043ep.example.com",  # a Cyrillic o
    "https://example.org",  # a subdomain wildcard does not cover the domain itself
    "https://a.example.org.evil.net",
    "https://evil-example.org",
    "https://*.example.org",  # no page has a wildcard origin
    "ws://shop.example.com",
    "https://shop.example.com, https://evil.net",  # two origins in one header
]
# Spellings of the allowed origins themselves: a host name is case-insensitive, `:443` is the
# default port and `/` the empty path; none of them can be another site's page, so they pass.
SAME_ORIGIN = [
    "https://shop.example.com",
    "https://SHOP.Example.COM",
    "HTTPS://shop.example.com",
    "https://shop.example.com/",
    "https://shop.example.com:443",
    "https://deep.sub.example.org",
]


@pytest.fixture
def site(platform, tenant_a):
    site_cache_clear()
    fixture = make_site(tenant_a)
    fixture.site.allowed_origins = ALLOWED
    fixture.site.save()
    return fixture


def session(site_key: str, origin: str | None):
    headers = {} if origin is None else {"HTTP_ORIGIN": origin}
    return PlatformClient(**headers).post_json("/api/widget/v1/session", {"site_key": site_key})


@pytest.mark.django_db
@pytest.mark.parametrize("origin", [*SPOOFED, None])
def test_a_spoofed_or_missing_origin_gets_no_session(site, origin):
    response = session(site.key, origin)
    assert response.status_code == 403
    assert error_code(response) == "origin_not_allowed"
    assert "Access-Control-Allow-Origin" not in response
    assert "token" not in response.json()


@pytest.mark.django_db
@pytest.mark.parametrize("origin", SAME_ORIGIN)
def test_spellings_of_an_allowed_origin_get_a_session(site, origin):
    response = session(site.key, origin)
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == origin


async def handshake(site_key: str, origin: str | None) -> bool:
    headers = [] if origin is None else [(b"origin", origin.encode())]
    socket = WebsocketCommunicator(application, f"/ws/chat/lobby/?site_key={site_key}", headers)
    connected, _ = await socket.connect()
    if connected:
        await socket.disconnect()
    return connected


@pytest.mark.django_db(transaction=True)
async def test_the_socket_handshake_refuses_every_spoofed_origin(site, fresh_sockets):
    for origin in [*SPOOFED, None]:
        assert await handshake(site.key, origin) is False, origin
    for origin in SAME_ORIGIN:
        assert await handshake(site.key, origin) is True, origin


@pytest.mark.django_db(transaction=True)
async def test_the_agent_socket_accepts_only_its_own_dashboard_origin(tenant_a, fresh_sockets):
    """A page elsewhere opening the agent socket would ride on the agent's cookie (cross-site
    WebSocket hijacking): only the tenant host's own origin is admitted."""
    agent = await database_sync_to_async(make_agent)(tenant_a)
    spoofed = [
        "null",
        "",
        "http://evil.net",
        "http://beta.localhost",  # a sibling tenant's dashboard
        "http://alpha.localhost.evil.net",
        "http://evil.net@alpha.localhost",
        "http://alpha.localhost@evil.net",
        "ftp://alpha.localhost",
        "http://alpha.localhost:8080",
        "http://localhost",  # the platform host
    ]
    for origin in spoofed:
        socket = agent_socket(agent, origin=origin) if origin else no_origin(agent)
        assert (await socket.connect())[0] is False, origin
    for origin in ("http://alpha.localhost", "https://alpha.localhost", "http://ALPHA.localhost"):
        socket = agent_socket(agent, origin=origin)
        assert (await socket.connect())[0] is True, origin
        await socket.disconnect()


def no_origin(agent):
    return WebsocketCommunicator(
        application,
        "/ws/agent/",
        headers=[
            (b"host", agent.host.encode()),
            (b"cookie", f"sessionid={agent.session_key}".encode()),
        ],
    )
