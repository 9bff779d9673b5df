"""`manage.py webhooks_worker`: deliver outbound webhooks until stopped (SIGINT/SIGTERM).

A process of its own rather than a task inside daphne: a slow or dead receiver then never
competes with the sockets' event loop, a deploy of the web workers does not interrupt a delivery,
and N daphne workers do not each poll. Several workers may run: they claim rows with
`FOR UPDATE SKIP LOCKED`. `make run` starts one.

It also keeps the delivery log bounded: when it starts and every hour, it deletes the finished
deliveries older than `WEBHOOK_DELIVERY_RETENTION_DAYS` (no cron job to forget).
"""

import signal
import threading
import time
from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import close_old_connections
from django.utils import timezone

from tenants.webhooks import webhook_deliveries_prune, webhooks_deliver_due

PRUNE_EVERY_SECONDS = 3600


class Command(BaseCommand):
    help = "Deliver outbound webhooks (with retries) until stopped."

    def add_arguments(self, parser):
        parser.add_argument(
            "--once", action="store_true", help="deliver what is due now, then exit"
        )

    def handle(self, *args, once: bool = False, **options):
        stopping = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stopping.set())
        prune_at = 0.0
        while not stopping.is_set():
            close_old_connections()
            if time.monotonic() >= prune_at:
                self._prune()
                prune_at = time.monotonic() + PRUNE_EVERY_SECONDS
            delivered = webhooks_deliver_due()
            if once and not delivered:
                return
            if not delivered:  # after a batch, look again at once: more may be due
                stopping.wait(settings.WEBHOOK_POLL_SECONDS)

    def _prune(self) -> None:
        retention = timedelta(days=settings.WEBHOOK_DELIVERY_RETENTION_DAYS)
        deleted = webhook_deliveries_prune(before=timezone.now() - retention)
        if deleted:
            self.stdout.write(
                f"{deleted} webhook deliveries older than {retention.days} days deleted."
            )
