"""Property-based run over the OpenAPI documents: schemathesis generates requests (valid and
invalid) for every operation and sends them through the whole Django stack (WSGI, tenant
middleware, CORS, ninja); no answer may be a 5xx or break the documented schema."""

from contextlib import contextmanager

import hypothesis
import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tenants.selectors import site_current_key
from tenants.services import api_key_create, site_create
from tests.support.api_clients import PlatformClient

pytestmark = pytest.mark.django_db


@contextmanager
def connection_kept_open():
    """The WSGI handler closes the database connection after each request; the test's data lives
    in that connection's transaction. Django's own test client suspends the same receivers."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    try:
        yield
    finally:
        for signal in (request_started, request_finished):
            signal.connect(close_old_connections)


MAX_EXAMPLES = 30  # per operation: keeps the run to seconds on two cores
# Every other built-in check runs: no 5xx, documented status codes, content types, headers and
# bodies, and invalid input refused. Not "every schema-valid request is accepted": the schema
# cannot say what makes a cursor genuine, an origin matchable or an email address real, and those
# are refused with 400 on purpose.


def served_openapi(path: str) -> dict:
    response = PlatformClient().get(path)
    assert response.status_code == 200
    return response.json()


def run_every_operation(openapi: dict, headers: dict) -> int:
    schema = schemathesis.openapi.from_dict(openapi)
    schema.app = get_wsgi_application()
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()

        @hypothesis.settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(hypothesis.HealthCheck),
        )
        @hypothesis.given(case=operation.as_strategy())
        def conforms(case):
            case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance])

        with connection_kept_open():
            conforms()
        operations += 1
    return operations


def test_the_site_key_api_answers_every_generated_request_by_its_schema(platform, tenant_a):
    site_create(tenant=tenant_a, name="Shop", allowed_origins=["https://shop.example"])
    _, api_key = api_key_create(tenant=tenant_a, name="schemathesis")
    openapi = served_openapi("/api/v1/openapi.json")
    assert run_every_operation(openapi, {"Authorization": f"Bearer {api_key}"}) == 36


def test_the_widget_api_answers_every_generated_request_by_its_schema(platform, tenant_a):
    site = site_create(tenant=tenant_a, name="Shop", allowed_origins=["https://shop.example"])
    openapi = served_openapi("/api/widget/v1/openapi.json")
    assert site_current_key(site).key
    # The site, the session, the visitor's conversations, the rating, the pre-chat form and the
    # offline form.
    assert run_every_operation(openapi, {"Origin": "https://shop.example"}) == 6
