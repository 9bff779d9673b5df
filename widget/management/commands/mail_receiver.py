"""`manage.py mail_receiver`: the SMTP server that takes emailed replies to conversations
(widget/mail/receiver.py) on PARLEY_INBOUND_SMTP_HOST:PARLEY_INBOUND_SMTP_PORT, until SIGINT
or SIGTERM. The reply domain's MX record points at it (docs/EMAIL.md)."""

import signal
import threading

from aiosmtpd.controller import Controller
from django.conf import settings
from django.core.management.base import BaseCommand

from widget.mail.receiver import ReplyHandler


class Command(BaseCommand):
    help = "Receive emailed replies to conversations over SMTP."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=settings.INBOUND_SMTP_HOST)
        parser.add_argument("--port", type=int, default=settings.INBOUND_SMTP_PORT)

    def handle(self, *args, host: str, port: int, **options):
        stopping = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stopping.set())
        controller = Controller(
            ReplyHandler(),
            hostname=host,
            port=port,
            server_hostname=settings.EMAIL_REPLY_DOMAIN,
            data_size_limit=settings.INBOUND_EMAIL_MAX_BYTES,
        )
        controller.start()
        self.stdout.write(f"Receiving replies for @{settings.EMAIL_REPLY_DOMAIN} on {host}:{port}")
        try:
            stopping.wait()
        finally:
            controller.stop()
