"""`manage.py notify_unanswered`: email agents about conversations left unanswered
(dashboard/unanswered.py says who and when). Once by default (a cron job may run it);
`--every SECONDS` keeps running, as `make run` starts it (infra/RUNBOOK.md)."""

import logging
import signal
import threading

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from dashboard.unanswered import unanswered_notify_all

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Email agents about conversations left unanswered past their chosen delay."

    def add_arguments(self, parser):
        parser.add_argument(
            "--every",
            type=float,
            default=0,
            help="run again every this many seconds until stopped (default: once)",
        )

    def handle(self, *args, every: float = 0, **options):
        stopping = threading.Event()
        if every:
            for signum in (signal.SIGINT, signal.SIGTERM):
                signal.signal(signum, lambda *_: stopping.set())
        while True:
            if every:  # a long-running process: drop a connection the database closed meanwhile
                close_old_connections()
            try:
                sent = unanswered_notify_all()
            except Exception:
                if not every:
                    raise
                # The mail server or the database is away: this run's emails wait for the next.
                logger.exception("unanswered-conversation emails failed; retrying next run")
                sent = 0
            if sent or not every:
                self.stdout.write(f"{sent} unanswered-conversation email(s) sent.")
            if not every or stopping.wait(every):
                return
