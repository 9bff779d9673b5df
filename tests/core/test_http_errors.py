"""Errors Django answers itself, outside the JSON APIs, follow the contract too: a body past
Django's size limit is 413 `payload_too_large` as JSON wherever it is first read: in a view, or in
the CSRF check of a form before any view."""

import json

import psycopg.errors
import pytest
from django.db import OperationalError

from tests.support.api_clients import PlatformClient, error_code

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("platform")]

PAST_DJANGOS_LIMIT = 3_000_000  # DATA_UPLOAD_MAX_MEMORY_SIZE is 2.5 MB


def test_a_body_past_djangos_limit_to_a_view_is_413():
    body = json.dumps({"padding": "x" * PAST_DJANGOS_LIMIT})
    response = PlatformClient().post(
        "/billing/stripe/webhook", data=body, content_type="application/json"
    )
    assert response.status_code == 413
    assert error_code(response) == "payload_too_large"


def test_a_form_past_djangos_limit_is_413_before_any_view():
    client = PlatformClient(enforce_csrf_checks=True)
    client.cookies["csrftoken"] = "c" * 32  # with a cookie, the CSRF check reads the form
    response = client.post(
        "/signup/",
        data=f"csrfmiddlewaretoken=x&name={'x' * PAST_DJANGOS_LIMIT}",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 413
    assert error_code(response) == "payload_too_large"


def test_an_exception_no_view_handles_is_the_contracts_500(monkeypatch):
    def broken_form(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr("dashboard.views.signup.SignupForm", broken_form)
    response = PlatformClient(raise_request_exception=False).get("/signup/")
    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert error_code(response) == "internal_error"


def test_a_lock_past_its_timeout_outside_the_apis_is_503_unavailable(monkeypatch):
    def form_meeting_a_lock(*args, **kwargs):
        try:
            raise psycopg.errors.LockNotAvailable("canceling statement due to lock timeout")
        except psycopg.Error as error:
            raise OperationalError(str(error)) from error

    monkeypatch.setattr("dashboard.views.signup.SignupForm", form_meeting_a_lock)
    response = PlatformClient(raise_request_exception=False).get("/signup/")
    assert response.status_code == 503
    assert response["Retry-After"] == "1"
    assert error_code(response) == "unavailable"
