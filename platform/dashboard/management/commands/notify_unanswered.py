"""`manage.py notify_unanswered`: email agents about conversations left unanswered
(dashboard/unanswered.py says who and when). Once by default (a cron job may run it);
`--every SECONDS` keeps running, as `make run` starts it (infra/RUNBOOK.md)."""

from core.periodic import PeriodicCommand
from dashboard.unanswered import unanswered_notify_all


class Command(PeriodicCommand):
    help = "Email agents about conversations left unanswered past their chosen delay."
    what = "unanswered-conversation email(s) sent"

    def run_once(self) -> int:
        # A failed run's emails wait for the next.
        return unanswered_notify_all()
