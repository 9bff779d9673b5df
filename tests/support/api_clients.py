"""HTTP clients for the platform host's APIs, as a browser or a tenant's server would call them."""

import json

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import Client

from tenants.services import api_key_create, public_tenant_ensure
from tenants.site_directory import site_cache_clear


class PlatformClient(Client):
    """Django's test client on the platform host, sending JSON bodies."""

    def __init__(self, **headers):
        super().__init__(HTTP_HOST=settings.PLATFORM_HOST, **headers)

    def post_json(self, path: str, body, **extra):
        content = body if isinstance(body, str | bytes) else json.dumps(body)
        return self.post(path, data=content, content_type="application/json", **extra)

    def patch_json(self, path: str, body, **extra):
        content = body if isinstance(body, str | bytes) else json.dumps(body)
        return self.patch(path, data=content, content_type="application/json", **extra)

    def put_json(self, path: str, body, **extra):
        content = body if isinstance(body, str | bytes) else json.dumps(body)
        return self.put(path, data=content, content_type="application/json", **extra)


def site_api_client(api_key: str) -> PlatformClient:
    return PlatformClient(HTTP_AUTHORIZATION=f"Bearer {api_key}")


def error_code(response) -> str:
    """The contract's error code of a non-2xx answer (fails the test if the shape is wrong)."""
    body = response.json()
    assert set(body) == {"error"}, body
    assert isinstance(body["error"]["message"], str), body
    assert body["error"]["message"], body
    return body["error"]["code"]


# --- Fixtures for the site-key API tests (import them into a test module to use them) --------


@pytest.fixture
def platform(db):
    """The platform host's tenant (routes every request to the public URLconf), fresh caches."""
    public_tenant_ensure()
    site_cache_clear()
    cache.clear()  # rate-limit counters
    yield
    site_cache_clear()


@pytest.fixture
def api_a(platform, tenant_a) -> PlatformClient:
    """A client of the site-key API authenticated as tenant A."""
    _, api_key = api_key_create(tenant=tenant_a, name="tests")
    return site_api_client(api_key)


@pytest.fixture
def api_b(platform, tenant_b) -> PlatformClient:
    _, api_key = api_key_create(tenant=tenant_b, name="tests")
    return site_api_client(api_key)
