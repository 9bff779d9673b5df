"""Delete the messages older than each tenant's plan keeps (run daily, see infra/RUNBOOK.md)."""

from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone
from django_tenants.utils import schema_context

from tenants.billing.limits import plan_for
from tenants.billing.plans import UNLIMITED
from tenants.models import Tenant
from widget.services.attachments import attachments_prune_unsent
from widget.services.erasure import messages_prune


class Command(BaseCommand):
    help = (
        "Delete every tenant's messages older than its plan's history (history_days), with "
        "their attachments, and the uploads never sent after PARLEY_ATTACHMENT_UNSENT_HOURS."
    )

    def handle(self, *args, **options):
        now = timezone.now()
        total = 0
        unsent_before = now - timedelta(hours=settings.ATTACHMENT_UNSENT_HOURS)
        for tenant in Tenant.objects.exclude(schema_name=settings.PUBLIC_SCHEMA_NAME):
            with schema_context(tenant.schema_name):
                unsent = attachments_prune_unsent(before=unsent_before)
            if unsent:
                self.stdout.write(f"{tenant.slug}: {unsent} unsent upload(s) deleted.")
            plan = plan_for(tenant.pk)
            if plan.history_days >= UNLIMITED:  # kept for good
                continue
            with schema_context(tenant.schema_name):
                deleted = messages_prune(before=now - timedelta(days=plan.history_days))
            if deleted:
                self.stdout.write(
                    f"{tenant.slug}: {deleted} message(s) older than "
                    f"{plan.history_days} days deleted."
                )
            total += deleted
        self.stdout.write(f"{total} message(s) deleted.")
