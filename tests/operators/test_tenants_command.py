"""`manage.py tenants ...`, the operator's actions for scripts, against real tenant schemas: each
prints JSON, and each action holds where the tenant's visitors, keys and data are."""

import json
import zipfile
from io import StringIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection
from django_tenants.utils import schema_context, schema_exists

from tenants.billing import limits
from tenants.models import SiteKey, Tenant
from tenants.services import api_key_create
from tests.support.api_clients import PlatformClient, error_code, platform, site_api_client
from tests.support.factories import make_site, make_visitor
from widget.models import Conversation
from widget.services.attachments import attachment_store
from widget.services.canned_replies import canned_reply_create
from widget.services.messages import message_post

pytestmark = pytest.mark.django_db(transaction=True)
__all__ = ["platform"]  # the fixture


@pytest.fixture(autouse=True)
def fresh_caches():
    from tenants import status

    limits.plan_cache_forget()
    status._status.clear()
    yield
    limits.plan_cache_forget()
    status._status.clear()


def run(*args) -> dict | list:
    out = StringIO()
    call_command("tenants", *args, stdout=out)
    return json.loads(out.getvalue())


def seed(site, messages: int) -> None:
    visitor = make_visitor(site, name="Grace")
    with schema_context(site.tenant.schema_name):
        conversation = Conversation.objects.get(room=visitor.room)
        for n in range(messages):
            message_post(
                tenant_id=site.tenant.id,
                conversation=conversation,
                text=f"message {n} with a secret-free text",
                author_kind="visitor",
                author_id=visitor.visitor_id,
                author_name="Grace",
            )


def test_list_and_show_give_plan_status_and_usage(tenant_a, tenant_b):
    make_site(tenant_a)
    listed = run("list")
    assert {row["slug"] for row in listed} >= {"alpha", "beta"}
    alpha = run("show", "alpha")
    assert alpha["plan"] == "free"
    assert alpha["plan_source"] == "default"
    assert alpha["sites"] == 1
    assert alpha["suspended_at"] is None
    assert [row["slug"] for row in run("list", "--query", "bet")] == ["beta"]


def test_set_plan_puts_a_tenant_on_any_plan_until_a_date_and_back(tenant_a):
    shown = run("set-plan", "alpha", "business", "--until", "2099-01-01T00:00:00+00:00")
    assert shown["plan"] == "business"
    assert shown["plan_source"] == "operator"
    assert shown["plan_until"].startswith("2099-01-01")
    assert limits.plan_for(tenant_a.pk).code == "business"
    assert run("set-plan", "alpha", "none")["plan"] == "free"
    with pytest.raises(CommandError):
        run("set-plan", "alpha", "platinum")
    with pytest.raises(CommandError):
        run("set-plan", "nobody", "pro")


def test_a_suspended_tenants_sessions_and_api_keys_are_refused_until_it_is_resumed(
    platform, tenant_a, tenant_b
):
    site = make_site(tenant_a)
    other = make_site(tenant_b)
    _, api_key = api_key_create(tenant=tenant_a, name="ops-test")
    api = site_api_client(api_key)

    def session(s):
        client = PlatformClient(HTTP_ORIGIN=s.origin)
        return client.post_json("/api/widget/v1/session", {"site_key": s.key})

    assert session(site).status_code == 200
    shown = run("suspend", "alpha", "--reason", "abuse report #12")
    assert shown["suspended_at"]
    assert shown["suspended_reason"] == "abuse report #12"

    refused = session(site)
    assert refused.status_code == 403
    assert error_code(refused) == "tenant_suspended"
    answer = api.get("/api/v1/sites")
    assert answer.status_code == 403
    assert error_code(answer) == "tenant_suspended"
    assert session(other).status_code == 200  # another tenant goes on

    run("resume", "alpha")
    assert session(site).status_code == 200
    assert api.get("/api/v1/sites").status_code == 200


def test_export_holds_every_message_and_no_secret(tenant_a, tmp_path):
    site = make_site(tenant_a)
    seed(site, 30)
    with schema_context(tenant_a.schema_name):
        canned_reply_create(tenant=tenant_a, shortcut="hi", title="Hi", body="Hi {{agent.name}}")
    answer = run("export", "alpha", "--output", str(tmp_path / "alpha.zip"))
    assert answer["records"]["messages"] == 30
    with zipfile.ZipFile(tmp_path / "alpha.zip") as archive:
        names = set(archive.namelist())
        assert names == {
            "tenant.jsonl", "sites.jsonl", "users.jsonl", "visitors.jsonl",
            "conversations.jsonl", "messages.jsonl", "canned_replies.jsonl",
        }  # fmt: skip
        messages = [json.loads(line) for line in archive.read("messages.jsonl").splitlines()]
        canned = [json.loads(line) for line in archive.read("canned_replies.jsonl").splitlines()]
        everything = b"".join(archive.read(name) for name in names)
    assert sorted(m["text"] for m in messages) == sorted(
        f"message {n} with a secret-free text" for n in range(30)
    )
    assert [(r["shortcut"], r["body"]) for r in canned] == [("hi", "Hi {{agent.name}}")]
    assert site.key.encode() not in everything
    assert b"identity_secret" not in everything
    assert b"password" not in everything


def test_delete_asks_for_the_name_then_drops_the_schema_and_every_key(tenant_a, attachment_storage):
    site = make_site(tenant_a)
    schema = tenant_a.schema_name
    visitor = make_visitor(site)
    with schema_context(schema):
        stored = attachment_store(
            conversation=Conversation.objects.get(room=visitor.room),
            upload=SimpleUploadedFile("notes.txt", b"the tenant's file"),
            allowed_types=["text/plain"],
            uploader_kind="visitor",
            uploader_id=visitor.visitor_id,
        )
    assert attachment_storage.exists(stored.storage_key)
    with pytest.raises(CommandError):
        run("delete", "alpha", "--confirm", "Alpha")  # not the name in full
    assert schema_exists(schema)
    answer = run("delete", "alpha", "--confirm", "Alpha Inc")
    assert answer["schema_dropped"] == schema
    assert not schema_exists(schema)
    assert not Tenant.objects.filter(slug="alpha").exists()
    assert not SiteKey.objects.filter(key=site.key).exists()
    assert not attachment_storage.exists(stored.storage_key)  # its files went with it
    connection.set_schema_to_public()
