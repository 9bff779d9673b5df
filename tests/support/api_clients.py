"""HTTP clients for the platform host's APIs, as a browser or a tenant's server would call them."""

import json

from django.conf import settings
from django.test import Client


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


def site_api_client(api_key: str) -> PlatformClient:
    return PlatformClient(HTTP_AUTHORIZATION=f"Bearer {api_key}")


def error_code(response) -> str:
    """The contract's error code of a non-2xx answer (fails the test if the shape is wrong)."""
    body = response.json()
    assert set(body) == {"error"}, body
    assert isinstance(body["error"]["message"], str), body
    assert body["error"]["message"], body
    return body["error"]["code"]
