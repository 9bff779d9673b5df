"""Delete the messages older than each tenant's plan keeps (run daily, see infra/RUNBOOK.md)."""

from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone
from django_tenants.utils import schema_context

from tenants.billing.limits import plan_for
from tenants.billing.plans import UNLIMITED
from tenants.models import Tenant
from widget.services.erasure import messages_prune


class Command(BaseCommand):
    help = "Delete every tenant's messages older than its plan's history (history_days)."

    def handle(self, *args, **options):
        now = timezone.now()
        total = 0
        for tenant in Tenant.objects.exclude(schema_name=settings.PUBLIC_SCHEMA_NAME):
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
