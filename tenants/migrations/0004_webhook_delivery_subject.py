"""Each webhook delivery names whose personal data its body carries (`subject`), so erasing a
visitor finds their deliveries.

Rows written before this migration get their subject from their body, read as the chat wrote it
then: the conversation's visitor, or the visitor who wrote the message. Plain SQL on the public
table, as tenants/0003 does.
"""

from django.db import migrations, models, router

BACKFILL = """
UPDATE tenants_webhookdelivery SET subject = COALESCE(
    body::jsonb #>> '{data,conversation,visitor,id}',
    CASE WHEN body::jsonb #>> '{data,message,author,kind}' = 'visitor'
        THEN body::jsonb #>> '{data,message,author,id}' END,
    ''
)
WHERE body <> ''
"""


def subjects_from_bodies(apps, schema_editor):
    # django-tenants runs this migration in every schema; the table lives in the public one.
    model = apps.get_model("tenants", "WebhookDelivery")
    if not router.allow_migrate_model(schema_editor.connection.alias, model):
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(BACKFILL)


class Migration(migrations.Migration):

    dependencies = [
        ('tenants', '0003_secrets_encrypted_at_rest'),
    ]

    operations = [
        migrations.AddField(
            model_name='webhookdelivery',
            name='subject',
            field=models.CharField(blank=True, default='', max_length=64),
        ),
        migrations.AddIndex(
            model_name='webhookdelivery',
            index=models.Index(condition=models.Q(('subject', ''), _negated=True), fields=['subject'], name='webhook_delivery_subject'),
        ),
        migrations.RunPython(subjects_from_bodies, migrations.RunPython.noop),
    ]
