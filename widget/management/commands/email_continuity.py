"""`manage.py email_continuity`: email visitors the agents' messages they have not seen
(widget/mail/continuity.py says which and when). Once by default (a cron job may run it);
`--every SECONDS` keeps running, as `make run` starts it (infra/RUNBOOK.md)."""

import logging
import signal
import threading

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from widget.mail.continuity import continuity_send_all
from widget.mail.transcripts import transcripts_send_all

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Email visitors who left an address the agents' messages they have not seen."

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
                sent = continuity_send_all() + transcripts_send_all()
            except Exception:
                if not every:
                    raise
                # The mail server or the database is away: the claimed messages were put back.
                logger.exception("conversation emails failed; retrying next run")
                sent = 0
            if sent or not every:
                self.stdout.write(f"{sent} conversation email(s) sent.")
            if not every or stopping.wait(every):
                return
