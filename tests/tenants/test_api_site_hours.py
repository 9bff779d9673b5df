"""`/api/v1/sites`: business hours, the away message and the forms, set at creation or by a
patch, normalised as the dashboard stores them, and each bad value refused naming its field."""

import pytest

from tenants.site_directory import site_for_key
from tests.support.api_clients import error_code

pytestmark = pytest.mark.django_db

SITE = {"name": "Shop", "allowed_origins": ["https://shop.example.com"]}
HOURS = {
    "time_zone": "Europe/Paris",
    "hours_enabled": True,
    "weekly_hours": {
        "mon": [{"start": "13:00", "end": "18:00"}, {"start": "09:00", "end": "12:00"}],
        "sat": [{"start": "10:00", "end": "24:00"}],
    },
    "closed_dates": ["2026-12-25", "2026-12-24"],
    "away_message": "We answer on weekdays.",
    "out_of_hours": "hide_launcher",
    "offline_form_when_unavailable": True,
    "prechat": "email_required",
    "prechat_fields": [
        {"label": "Order number", "type": "number", "required": True},
        {"label": "Topic", "type": "select", "options": ["Billing", "Bugs", "Billing"]},
        {"key": "newsletter", "label": "Send me news", "type": "checkbox"},
    ],
}


def test_a_site_is_created_with_its_hours_and_forms(api_a):
    response = api_a.post_json("/api/v1/sites", SITE | HOURS)
    assert response.status_code == 201, response.content
    site = response.json()
    assert site["weekly_hours"] == {
        "mon": [{"start": "09:00", "end": "12:00"}, {"start": "13:00", "end": "18:00"}],
        "sat": [{"start": "10:00", "end": "24:00"}],
    }
    assert site["closed_dates"] == ["2026-12-24", "2026-12-25"]
    assert site["prechat_fields"] == [
        {"key": "order_number", "label": "Order number", "type": "number", "required": True,
         "options": []},
        {"key": "topic", "label": "Topic", "type": "select", "required": False,
         "options": ["Billing", "Bugs"]},
        {"key": "newsletter", "label": "Send me news", "type": "checkbox", "required": False,
         "options": []},
    ]  # fmt: skip
    assert (site["out_of_hours"], site["prechat"]) == ("hide_launcher", "email_required")
    info = site_for_key(site["site_key"])
    assert info.schedule.time_zone == "Europe/Paris"
    assert info.prechat_fields[0]["key"] == "order_number"


def test_a_patch_switches_hours_off_and_the_widget_sees_it(api_a, tenant_a, on_plan):
    on_plan(tenant_a, "pro")
    site = api_a.post_json("/api/v1/sites", SITE | HOURS).json()
    response = api_a.patch_json(f"/api/v1/sites/{site['id']}", {"hours_enabled": False})
    assert response.status_code == 200
    assert response.json()["weekly_hours"] == site["weekly_hours"]  # kept for later
    assert site_for_key(site["site_key"]).schedule is None
    defaults = api_a.post_json("/api/v1/sites", SITE).json()
    assert (defaults["time_zone"], defaults["hours_enabled"], defaults["prechat"]) == (
        "UTC",
        False,
        "none",
    )


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"time_zone": "Mars/Olympus"}, "time_zone"),
        ({"weekly_hours": {"moon": []}}, "moon"),
        ({"weekly_hours": {"mon": [{"start": "9:00", "end": "17:00"}]}}, "weekly_hours.mon"),
        ({"weekly_hours": {"mon": [{"start": "10:00", "end": "09:00"}]}}, "not before its end"),
        (
            {"weekly_hours": {"mon": [{"start": "09:00", "end": "12:00"}] * 2}},
            "intervals overlap",
        ),
        ({"weekly_hours": {"mon": [{"start": "24:00", "end": "24:00"}]}}, "not a time of day"),
        ({"closed_dates": ["25/12/2026"]}, "closed_dates"),
        ({"out_of_hours": "vanish"}, "out_of_hours"),
        ({"prechat": "everything"}, "prechat"),
        ({"prechat_fields": [{"label": "Email", "type": "email", "key": "email"}]}, "key"),
        ({"prechat_fields": [{"label": "Topic", "type": "select"}]}, "options"),
        ({"prechat_fields": [{"label": "Age", "type": "number", "options": ["1"]}]}, "options"),
        ({"prechat_fields": [{"label": "A", "type": "text"}] * 2}, "used twice"),
        ({"prechat_fields": [{"label": "A", "type": "date"}]}, "prechat_fields"),
        ({"away_message": "x" * 301}, "away_message"),
    ],
)
def test_bad_hours_and_forms_are_refused_naming_the_field(api_a, fields, named):
    site = api_a.post_json("/api/v1/sites", SITE).json()
    patched = api_a.patch_json(f"/api/v1/sites/{site['id']}", fields)
    assert patched.status_code == 400
    assert named in patched.json()["error"]["message"]
    api_a.delete(f"/api/v1/sites/{site['id']}")
    response = api_a.post_json("/api/v1/sites", SITE | fields)
    assert response.status_code == 400, response.content
    assert error_code(response) == "bad_request"
    assert named in response.json()["error"]["message"]
