"""`manage.py demo --json` describes a working demo tenant and is safe to run again."""

import json

import pytest
from django.core.management import call_command
from django_tenants.utils import tenant_context
from operators.models import Operator

from accounts.models import User
from tenants.keys import api_key_digest
from tenants.models import ApiKey, SiteKey, Tenant

pytestmark = pytest.mark.django_db


def run_demo(capsys) -> dict:
    call_command("demo", "--json")
    return json.loads(capsys.readouterr().out)


def test_demo_json_describes_the_demo_tenant(capsys):
    demo = run_demo(capsys)
    assert set(demo) == {
        "platform_url",
        "tenant_url",
        "customer_page_url",
        "site_key",
        "api_key",
        "agent",
        "operator",
        "allowed_origins",
    }
    assert demo["tenant_url"] == "http://demo.localhost:8000"
    assert demo["allowed_origins"] == ["http://127.0.0.1:8001"]
    assert demo["site_key"].startswith("pk_")
    assert len(demo["site_key"]) >= 27
    assert SiteKey.objects.get(key=demo["site_key"]).site.tenant.slug == "demo"
    assert ApiKey.objects.filter(key_hash=api_key_digest(demo["api_key"])).exists()
    assert not ApiKey.objects.filter(key_hash=demo["api_key"]).exists()  # stored hashed only
    with tenant_context(Tenant.objects.get(slug="demo")):
        agent = User.objects.get(email=demo["agent"]["email"])
        assert agent.check_password(demo["agent"]["password"])
    # The demo's operator signs in to the console with the printed password and secret.
    operator = Operator.objects.get(email=demo["operator"]["email"])
    assert operator.check_password(demo["operator"]["password"])
    assert operator.totp_secret == demo["operator"]["totp_secret"]
    assert demo["operator"]["console_url"] == "http://localhost:8000/operator/"


def test_demo_is_idempotent_but_issues_a_fresh_api_key(capsys):
    first, second = run_demo(capsys), run_demo(capsys)
    assert first["site_key"] == second["site_key"]
    assert first["api_key"] != second["api_key"]
    assert Tenant.objects.filter(slug="demo").count() == 1
