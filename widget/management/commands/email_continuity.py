"""`manage.py email_continuity`: email visitors the agents' messages they have not seen
(widget/mail/continuity.py says which and when) and the transcripts asked for
(widget/mail/transcripts.py). Once by default (a cron job may run it); `--every SECONDS` keeps
running, as `make run` starts it (infra/RUNBOOK.md)."""

from core.periodic import PeriodicCommand
from widget.mail.continuity import continuity_send_all
from widget.mail.transcripts import transcripts_send_all


class Command(PeriodicCommand):
    help = "Email visitors who left an address the agents' messages they have not seen."
    what = "conversation email(s) sent"

    def run_once(self) -> int:
        # A failed send puts its claimed messages (or transcript) back for the next run.
        return continuity_send_all() + transcripts_send_all()
