"""No secret in plain text in the database or the logs.

- API keys: only their SHA-256 digest is stored (they are only ever compared).
- Identity secrets and webhook secrets: Parley signs with them, so they are kept, encrypted
  (tenants/secrets_at_rest.py); the column holds ciphertext only.
Each check reads the table with plain SQL, as someone holding a copy of the database would.
"""

import hashlib
import importlib
import io
import logging

import pytest
import structlog
from django.apps import apps
from django.core.management import call_command
from django.db import connection

from tenants.models import Site, Webhook
from tenants.secrets_at_rest import SecretUnreadable, secret_decrypt, secret_encrypt
from tenants.services import api_key_create, site_create, webhook_create

pytestmark = pytest.mark.django_db

migration = importlib.import_module("tenants.migrations.0003_secrets_encrypted_at_rest")


def stored_row(table: str, row_id: int) -> str:
    """Every column of the row, as one string."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table} WHERE id = %s", [row_id])
        return " ".join(str(value) for value in cursor.fetchone())


def stored(table: str, column: str, row_id: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [row_id])
        return cursor.fetchone()[0]


def test_an_api_key_is_stored_as_its_digest_only(tenant_a):
    row, api_key = api_key_create(tenant=tenant_a, name="crm")
    secret_part = api_key.removeprefix("sk_")
    assert secret_part not in stored_row("tenants_apikey", row.pk)
    assert (
        stored("tenants_apikey", "key_hash", row.pk) == hashlib.sha256(api_key.encode()).hexdigest()
    )
    # The shown prefix is the public "sk_" and 5 characters: not enough to guess the rest.
    assert len(row.prefix) <= 8


def test_an_identity_secret_is_encrypted_in_the_database(tenant_a):
    site = site_create(tenant=tenant_a, name="Shop", allowed_origins=["https://shop.example"])
    secret = site.identity_secret
    column = stored("tenants_site", "identity_secret", site.pk)
    assert secret not in stored_row("tenants_site", site.pk)
    assert column != secret
    assert secret_decrypt(column) == secret
    assert Site.objects.get(pk=site.pk).identity_secret == secret  # code still sees it


def test_a_webhook_secret_is_encrypted_in_the_database(tenant_a):
    webhook = webhook_create(tenant=tenant_a, url="https://a.example/hook", events=[])
    assert webhook.secret.startswith("whsec_")
    assert webhook.secret not in stored_row("tenants_webhook", webhook.pk)
    assert webhook.secret.removeprefix("whsec_") not in stored_row("tenants_webhook", webhook.pk)
    assert Webhook.objects.get(pk=webhook.pk).secret == webhook.secret


def test_the_same_secret_encrypts_differently_each_time():
    """A fresh IV per value: equal secrets do not show up as equal columns."""
    assert secret_encrypt("same") != secret_encrypt("same")


def test_existing_plaintext_rows_are_encrypted_by_the_migration(tenant_a):
    site = site_create(tenant=tenant_a, name="Old", allowed_origins=["https://old.example"])
    webhook = webhook_create(tenant=tenant_a, url="https://a.example/hook", events=[])
    with connection.cursor() as cursor:  # rows as they were before the migration
        cursor.execute(
            "UPDATE tenants_site SET identity_secret = 'old-plain' WHERE id = %s", [site.pk]
        )
        cursor.execute(
            "UPDATE tenants_webhook SET secret = 'whsec_old' WHERE id = %s", [webhook.pk]
        )

    with connection.schema_editor() as editor:
        migration.encrypt_existing(apps, editor)

    assert "old-plain" not in stored_row("tenants_site", site.pk)
    assert "whsec_old" not in stored_row("tenants_webhook", webhook.pk)
    assert Site.objects.get(pk=site.pk).identity_secret == "old-plain"
    assert Webhook.objects.get(pk=webhook.pk).secret == "whsec_old"

    with connection.schema_editor() as editor:  # and back, for a rollback of the release
        migration.decrypt_existing(apps, editor)
    assert stored("tenants_site", "identity_secret", site.pk) == "old-plain"


def test_secrets_survive_a_secret_key_rotation(tenant_a, settings):
    site = site_create(tenant=tenant_a, name="Shop", allowed_origins=["https://shop.example"])
    webhook = webhook_create(tenant=tenant_a, url="https://a.example/hook", events=[])
    old_key = settings.SECRET_KEY
    settings.SECRET_KEY = "a-brand-new-secret-key-for-the-rotation-test"
    settings.SECRET_KEY_FALLBACKS = [old_key]
    # Readable through the fallback meanwhile...
    assert Site.objects.get(pk=site.pk).identity_secret == site.identity_secret
    # ...and re-encrypted with the new key by the rotation's last step, so the old key can go.
    out = io.StringIO()
    call_command("secrets_reencrypt", stdout=out)
    assert "re-encrypted 2 secrets" in out.getvalue()
    settings.SECRET_KEY_FALLBACKS = []
    assert Site.objects.get(pk=site.pk).identity_secret == site.identity_secret
    assert Webhook.objects.get(pk=webhook.pk).secret == webhook.secret


def test_a_secret_no_key_decrypts_is_an_error_not_garbage(tenant_a, settings):
    site = site_create(tenant=tenant_a, name="Shop", allowed_origins=["https://shop.example"])
    settings.SECRET_KEY = "a-brand-new-secret-key-for-the-rotation-test"
    settings.SECRET_KEY_FALLBACKS = []
    with pytest.raises(SecretUnreadable):
        Site.objects.get(pk=site.pk)


def test_secrets_are_never_written_to_the_logs(api_a, log_output):
    """Creating them logs nothing of them; and a careless log line is scrubbed (core/logging.py)."""
    site = api_a.post_json("/api/v1/sites", {"name": "Logged", "allowed_origins": []}).json()
    webhook = api_a.post_json("/api/v1/webhooks", {"url": "https://a.example/hook"}).json()
    logging.getLogger("parley.test").warning("careless: webhook secret %s", webhook["secret"])
    structlog.get_logger("parley.test").warning("careless", identity_secret=site["identity_secret"])
    output = log_output.getvalue()
    assert output.count("careless") == 2
    assert webhook["secret"] not in output
    assert site["identity_secret"] not in output
