"""`manage.py webhooks_worker`: deliver outbound webhooks until stopped (SIGINT/SIGTERM).

A process of its own rather than a task inside daphne: a slow or dead receiver then never
competes with the sockets' event loop, a deploy of the web workers does not interrupt a delivery,
and N daphne workers do not each poll. Several workers may run: they claim rows with
`FOR UPDATE SKIP LOCKED`. `make run` starts one.
"""

import signal
import threading

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import close_old_connections

from tenants.webhooks import webhooks_deliver_due


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
        while not stopping.is_set():
            close_old_connections()
            delivered = webhooks_deliver_due()
            if once and not delivered:
                return
            if not delivered:  # after a batch, look again at once: more may be due
                stopping.wait(settings.WEBHOOK_POLL_SECONDS)
