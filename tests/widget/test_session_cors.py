"""CORS of the widget HTTP API, through the real ASGI application (cors-headers runs on the event
loop there) with the headers a browser sends."""

import httpx
import pytest
from channels.db import database_sync_to_async

from config.asgi import application
from tenants.models import SiteKey
from tenants.selectors import site_current_key
from tenants.services import site_create, site_update

pytestmark = pytest.mark.django_db(transaction=True)

URL = "/api/widget/v1/session"
ALLOWED = "https://shop.example.com"
OTHER = "https://evil.example.net"


@pytest.fixture
def site_key(platform, tenant_a):
    site = site_create(
        tenant=tenant_a, name="Shop", allowed_origins=[ALLOWED], require_identity=False
    )
    return site_current_key(site).key


@pytest.fixture
async def browser():
    transport = httpx.ASGITransport(app=application)
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
        yield client


def preflight_headers(origin: str) -> dict:
    return {
        "Origin": origin,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type",
    }


async def test_preflight_and_request_from_an_allowed_origin_succeed(browser, site_key):
    preflight = await browser.options(URL, headers=preflight_headers(ALLOWED))
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == ALLOWED
    assert preflight.headers["access-control-allow-methods"] == "OPTIONS, GET, POST"
    assert preflight.headers["access-control-allow-headers"] == "content-type, authorization"
    assert "access-control-allow-credentials" not in preflight.headers

    response = await browser.post(URL, json={"site_key": site_key}, headers={"Origin": ALLOWED})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == ALLOWED
    assert "access-control-allow-credentials" not in response.headers
    assert "origin" in response.headers["vary"].lower()
    assert response.json()["conversation"].startswith("cv_")


async def test_a_request_from_another_origin_is_blocked_and_refused(browser, site_key):
    # The preflight carries no body, so no site key: it is let through for any origin, and grants
    # nothing. The real request is what the browser blocks: its answer has no ACAO.
    preflight = await browser.options(URL, headers=preflight_headers(OTHER))
    assert preflight.status_code == 200

    response = await browser.post(URL, json={"site_key": site_key}, headers={"Origin": OTHER})
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "origin_not_allowed"
    assert "access-control-allow-origin" not in response.headers


async def test_an_error_for_an_allowed_origin_is_readable_by_the_page(browser, site_key):
    site = await database_sync_to_async(lambda: SiteKey.objects.get(key=site_key).site)()
    await database_sync_to_async(site_update)(site=site, require_identity=True)
    response = await browser.post(URL, json={"site_key": site_key}, headers={"Origin": ALLOWED})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "identity_required"
    assert response.headers["access-control-allow-origin"] == ALLOWED


async def test_other_platform_paths_get_no_cors_headers(browser, site_key):
    response = await browser.options("/api/v1/sites", headers=preflight_headers(ALLOWED))
    assert "access-control-allow-origin" not in response.headers
