import django.db.models.deletion
import django.db.models.functions.text
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("widget", "0004_last_visitor_message"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RenameField(model_name="cannedreply", old_name="text", new_name="body"),
        migrations.AlterField(
            model_name="cannedreply", name="body", field=models.TextField()
        ),
        migrations.AlterField(
            model_name="cannedreply", name="shortcut", field=models.CharField(max_length=32)
        ),
        migrations.AddField(
            model_name="cannedreply",
            name="created_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddConstraint(
            model_name="cannedreply",
            constraint=models.UniqueConstraint(
                django.db.models.functions.text.Lower("shortcut"),
                name="unique_canned_reply_shortcut",
            ),
        ),
    ]
