"""A management command that does its work once, or again every `--every SECONDS` until SIGINT
or SIGTERM (as `make run` and a Deployment run the email senders; a cron job may run it once).

A subclass says what one run does (`run_once`, returning how many things it did) and how to
name them (`what`). In the long-running form a failed run (the mail server or the database is
away) is logged and retried at the next, and a connection the database closed meanwhile is
dropped before each run."""

import logging
import signal
import threading

from django.core.management.base import BaseCommand
from django.db import close_old_connections

logger = logging.getLogger(__name__)


class PeriodicCommand(BaseCommand):
    what = "thing(s) done"  # printed after the count: "3 conversation email(s) sent."

    def run_once(self) -> int:
        raise NotImplementedError

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
            if every:
                close_old_connections()
            try:
                done = self.run_once()
            except Exception:
                if not every:
                    raise
                logger.exception("%s: the run failed; retrying next run", self.what)
                done = 0
            if done or not every:
                self.stdout.write(f"{done} {self.what}.")
            if not every or stopping.wait(every):
                return
