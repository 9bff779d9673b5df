"""Put tenants whose grace period after a failed payment is over on the free plan (run daily)."""

from django.core.management.base import BaseCommand
from django.utils import timezone

from tenants.billing.services import billing_grace_expire


class Command(BaseCommand):
    help = "Downgrade to the free plan every tenant whose payment grace period has ended."

    def handle(self, *args, **options):
        tenant_ids = billing_grace_expire(now=timezone.now())
        self.stdout.write(f"{len(tenant_ids)} tenant(s) moved to the free plan.")
