"""The operator console on the platform host: sign-in needs the password and a TOTP code (once
each), anonymous callers and tenants' hosts never reach it, failures are throttled, and every
action it takes holds and is in the audit log with the operator's email and address."""

import io
import json
import zipfile
from io import StringIO

import pyotp
import pytest
from django.conf import settings
from django.core.cache import cache
from django.core.management import call_command
from django.test import Client
from django_tenants.utils import schema_exists

from tenants.billing import limits
from tenants.models import AuditEntry, Tenant
from tenants.services import public_tenant_ensure
from tests.support.factories import make_site, make_visitor

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "a-long-enough-operator-passphrase"


@pytest.fixture
def operator(db):
    public_tenant_ensure()
    cache.clear()
    limits.plan_cache_forget()
    out = StringIO()
    call_command(
        "operator_create", "ops@parley.test", "--password-stdin",
        stdin=io.StringIO(PASSWORD + "\n"), stdout=out,
    )  # fmt: skip
    return json.loads(out.getvalue())


def console() -> Client:
    return Client(HTTP_HOST=settings.PLATFORM_HOST, REMOTE_ADDR="198.51.100.23")


def sign_in(client: Client, operator: dict, *, code: str | None = None, password=PASSWORD):
    code = pyotp.TOTP(operator["totp_secret"]).now() if code is None else code
    return client.post(
        "/operator/login/", {"email": operator["operator"], "password": password, "code": code}
    )


def signed_in(operator: dict) -> Client:
    client = console()
    assert sign_in(client, operator).status_code == 302
    return client


def test_anonymous_callers_and_tenant_hosts_never_reach_the_console(operator, tenant_a):
    assert console().get("/operator/").status_code == 302  # to the sign-in page
    assert console().get("/operator/tenants/alpha/").status_code == 302
    assert console().post("/operator/tenants/alpha/suspend/").status_code == 302
    tenant_host = Client(HTTP_HOST="alpha.localhost")
    assert tenant_host.get("/operator/").status_code == 404
    assert Tenant.objects.get(pk=tenant_a.pk).suspended_at is None


def test_the_password_alone_or_a_replayed_code_does_not_sign_in(operator):
    client = console()
    assert sign_in(client, operator, code="").status_code == 400
    assert sign_in(client, operator, code="000000").status_code == 400
    assert sign_in(client, operator, password="wrong").status_code == 400
    assert client.get("/operator/").status_code == 302
    code = pyotp.TOTP(operator["totp_secret"]).now()
    assert sign_in(client, operator, code=code).status_code == 302
    assert client.get("/operator/").status_code == 200
    assert sign_in(console(), operator, code=code).status_code == 400  # the same code again


def test_failed_sign_ins_are_throttled(operator, settings):
    settings.LOGIN_FAILURE_LIMIT = (3, 900)
    client = console()
    for _ in range(3):
        assert sign_in(client, operator, code="123456").status_code == 400
    assert sign_in(client, operator).status_code == 429  # even with the right code


def test_the_console_lists_searches_and_acts_and_every_action_is_audited(
    operator, tenant_a, tenant_b
):
    site = make_site(tenant_a)
    make_visitor(site, name="Grace")
    client = signed_in(operator)
    listing = client.get("/operator/").content.decode()
    assert "Alpha Inc" in listing
    assert "Beta LLC" in listing
    found = client.get("/operator/?q=bet").content.decode()
    assert "Beta LLC" in found
    assert "Alpha Inc" not in found

    assert client.post("/operator/tenants/alpha/plan/", {"plan": "business"}).status_code == 302
    assert limits.plan_for(tenant_a.pk).code == "business"
    client.post("/operator/tenants/alpha/suspend/", {"reason": "unpaid contract"})
    assert Tenant.objects.get(pk=tenant_a.pk).suspended_reason == "unpaid contract"
    client.post("/operator/tenants/alpha/resume/")
    assert Tenant.objects.get(pk=tenant_a.pk).suspended_at is None

    export = client.post("/operator/tenants/alpha/export/")
    assert export.status_code == 200
    with zipfile.ZipFile(io.BytesIO(b"".join(export.streaming_content))) as archive:
        assert b"Grace" in archive.read("visitors.jsonl")

    refused = client.post("/operator/tenants/alpha/delete/", {"confirm": "alpha"})
    assert refused.status_code == 400
    assert schema_exists(tenant_a.schema_name)
    assert (
        client.post("/operator/tenants/alpha/delete/", {"confirm": "Alpha Inc"}).status_code == 302
    )
    assert not schema_exists("t_alpha")

    actions = list(
        AuditEntry.objects.filter(actor_kind="operator").order_by("id").values_list(
            "action", "actor_label", "address", "tenant_slug"
        )
    )  # fmt: skip
    assert [action for action, *_ in actions] == [
        "operator.signed_in", "tenant.plan_granted", "tenant.suspended", "tenant.resumed",
        "tenant.exported", "tenant.deleted", "site.deleted",
    ]  # fmt: skip
    assert {(label, address) for _, label, address, _ in actions} == {
        ("ops@parley.test", "198.51.100.23")
    }
    page = client.get("/operator/audit/").content.decode()
    assert "tenant.deleted" in page
    assert "ops@parley.test" in page


def test_a_commands_actions_are_audited_too(operator, tenant_b):
    call_command("tenants", "suspend", "beta", stdout=StringIO())
    entry = AuditEntry.objects.filter(action="tenant.suspended").get()
    assert entry.actor_kind == "command"
    assert entry.actor_label.startswith("manage.py tenants suspend")
    assert entry.tenant_slug == "beta"
