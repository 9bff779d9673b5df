"""Every operation of the site-key API refuses a request without a key, and every operation that
takes a body refuses malformed JSON, a body that is not an object, unknown fields and an oversized
body, each with its documented code."""

import json
import uuid

import pytest
from django.db import connection
from django_tenants.utils import schema_context

from tenants.services import site_create
from tests.support.api_clients import PlatformClient, error_code
from widget.models import Conversation

pytestmark = pytest.mark.django_db

OPERATIONS = [
    ("GET", "/api/v1/sites"),
    ("POST", "/api/v1/sites"),
    ("GET", "/api/v1/sites/{site_id}"),
    ("PATCH", "/api/v1/sites/{site_id}"),
    ("DELETE", "/api/v1/sites/{site_id}"),
    ("POST", "/api/v1/sites/{site_id}/rotate-key"),
    ("POST", "/api/v1/sites/{site_id}/identity-secret"),
    ("GET", "/api/v1/conversations"),
    ("GET", "/api/v1/conversations/{conversation_id}/messages"),
    ("POST", "/api/v1/conversations/{conversation_id}/messages"),
    ("DELETE", "/api/v1/visitors/{visitor_id}"),
    ("GET", "/api/v1/webhooks"),
    ("POST", "/api/v1/webhooks"),
    ("DELETE", "/api/v1/webhooks/{webhook_id}"),
    ("GET", "/api/v1/webhooks/{webhook_id}/deliveries"),
    ("GET", "/api/v1/audit"),
    ("GET", "/api/v1/canned-replies"),
    ("POST", "/api/v1/canned-replies"),
    ("GET", "/api/v1/canned-replies/{canned_reply_id}"),
    ("PATCH", "/api/v1/canned-replies/{canned_reply_id}"),
    ("DELETE", "/api/v1/canned-replies/{canned_reply_id}"),
    ("PUT", "/api/v1/conversations/{conversation_id}/assignee"),
    ("POST", "/api/v1/conversations/{conversation_id}/close"),
    ("POST", "/api/v1/conversations/{conversation_id}/transcript"),
    ("GET", "/api/v1/visitors/{visitor_id}/export"),
    ("POST", "/api/v1/conversations/{conversation_id}/reopen"),
    ("PUT", "/api/v1/conversations/{conversation_id}/snooze"),
    ("DELETE", "/api/v1/conversations/{conversation_id}/snooze"),
    ("PUT", "/api/v1/conversations/{conversation_id}/labels/{label_id}"),
    ("DELETE", "/api/v1/conversations/{conversation_id}/labels/{label_id}"),
    ("POST", "/api/v1/conversations/bulk"),
    ("GET", "/api/v1/labels"),
    ("POST", "/api/v1/labels"),
    ("PATCH", "/api/v1/labels/{label_id}"),
    ("DELETE", "/api/v1/labels/{label_id}"),
    ("GET", "/api/v1/members"),
]
WITH_BODY = [
    ("POST", "/api/v1/sites"),
    ("PATCH", "/api/v1/sites/{site_id}"),
    ("POST", "/api/v1/sites/{site_id}/rotate-key"),
    ("POST", "/api/v1/conversations/{conversation_id}/messages"),
    ("POST", "/api/v1/webhooks"),
    ("POST", "/api/v1/canned-replies"),
    ("PATCH", "/api/v1/canned-replies/{canned_reply_id}"),
    ("PUT", "/api/v1/conversations/{conversation_id}/assignee"),
    ("PUT", "/api/v1/conversations/{conversation_id}/snooze"),
    ("POST", "/api/v1/conversations/bulk"),
    ("POST", "/api/v1/labels"),
    ("PATCH", "/api/v1/labels/{label_id}"),
]


@pytest.fixture
def ids(tenant_a):
    site = site_create(tenant=tenant_a, name="Shop", allowed_origins=[])
    with schema_context(tenant_a.schema_name):
        conversation = Conversation.objects.create(room="cv_bodies", site_id=site.id)
    return {
        "site_id": site.id,
        "conversation_id": conversation.id,
        "visitor_id": uuid.uuid4(),
        "webhook_id": 1,
        "canned_reply_id": 1,
        "label_id": 1,
    }


def send(client, method: str, path: str, content: str | bytes = b""):
    return client.generic(method, path, data=content, content_type="application/json")


def test_the_openapi_document_lists_exactly_these_operations(platform):
    document = PlatformClient().get("/api/v1/openapi.json").json()
    listed = {
        (method.upper(), path)
        for path, operations in document["paths"].items()
        for method in operations
    }
    assert listed == set(OPERATIONS)


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_every_operation_needs_an_api_key(platform, ids, method, path):
    response = send(PlatformClient(), method, path.format(**ids))
    assert response.status_code == 401
    assert error_code(response) == "invalid_token"


@pytest.mark.parametrize(("method", "path"), WITH_BODY)
@pytest.mark.parametrize(
    ("content", "status", "code"),
    [
        ('{"name": ', 400, "invalid_json"),
        ("[1, 2]", 400, "bad_request"),
        ('"text"', 400, "bad_request"),
        (
            '{"text": "hi", "name": "x", "url": "https://h.example/", "surprise": 1}',
            400,
            "bad_request",
        ),
        (json.dumps({"padding": "x" * 70_000}), 413, "payload_too_large"),
        # Past Django's own limit (DATA_UPLOAD_MAX_MEMORY_SIZE, 2.5 MB), met before the parser.
        (json.dumps({"padding": "x" * 3_000_000}), 413, "payload_too_large"),
    ],
    ids=["malformed", "array", "string", "unknown-field", "oversized", "past-djangos-limit"],
)
def test_every_body_is_checked(api_a, ids, method, path, content, status, code):
    response = send(api_a, method, path.format(**ids), content)
    assert response.status_code == status, response.content
    assert error_code(response) == code
    assert connection.schema_name == "public"  # a view never leaves the tenant's schema set


def test_text_postgresql_cannot_store_is_refused_before_anything_is_stored(api_a, ids):
    path = "/api/v1/conversations/{conversation_id}/messages".format(**ids)
    response = send(api_a, "POST", path, '{"text": "before\\u0000after"}')
    assert response.status_code == 400, response.content
    assert error_code(response) == "bad_request"
    assert "NUL" in response.json()["error"]["message"]
    assert send(api_a, "POST", path, '{"text": "fine"}').status_code == 201


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        ("name=Shop&allowed_origins=x", "application/x-www-form-urlencoded"),
        (
            "--b\r\nContent-Disposition: form-data; name=name\r\n\r\nShop\r\n--b--",
            "multipart/form-data; boundary=b",
        ),
    ],
    ids=["form", "multipart"],
)
def test_a_body_of_another_content_type_is_not_json(api_a, content, content_type):
    response = api_a.post("/api/v1/sites", data=content, content_type=content_type)
    assert response.status_code == 400, response.content
    assert error_code(response) == "invalid_json"
