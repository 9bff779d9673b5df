"""Identity secrets and webhook secrets are stored encrypted (tenants/secrets_at_rest.py).

The columns become text (a Fernet token is longer than the secret), then every existing row's
plaintext is replaced by its ciphertext. Plain SQL, not the models: the historical model already
has the encrypted field, which would try to decrypt the plaintext rows.
"""

from django.db import migrations, router

import tenants.secrets_at_rest

COLUMNS = (("tenants_site", "identity_secret"), ("tenants_webhook", "secret"))


def _convert(apps, schema_editor, convert):
    # django-tenants runs this migration in every schema; the tables live in the public one.
    if not router.allow_migrate_model(schema_editor.connection.alias, apps.get_model("tenants", "Site")):
        return
    with schema_editor.connection.cursor() as cursor:
        for table, column in COLUMNS:
            cursor.execute(f"SELECT id, {column} FROM {table} WHERE {column} <> ''")
            for row_id, value in cursor.fetchall():
                cursor.execute(
                    f"UPDATE {table} SET {column} = %s WHERE id = %s", [convert(value), row_id]
                )


def encrypt_existing(apps, schema_editor):
    _convert(apps, schema_editor, tenants.secrets_at_rest.secret_encrypt)


def decrypt_existing(apps, schema_editor):
    _convert(apps, schema_editor, tenants.secrets_at_rest.secret_decrypt)


class Migration(migrations.Migration):

    dependencies = [
        ('tenants', '0002_webhooks'),
    ]

    operations = [
        migrations.AlterField(
            model_name='site',
            name='identity_secret',
            field=tenants.secrets_at_rest.EncryptedTextField(blank=True),
        ),
        migrations.AlterField(
            model_name='webhook',
            name='secret',
            field=tenants.secrets_at_rest.EncryptedTextField(),
        ),
        migrations.RunPython(encrypt_existing, decrypt_existing),
    ]
