"""A real SMTP server on loopback for tests (aiosmtpd in a thread): what it received, parsed.

with smtp_inbox() as inbox:  # or the `smtp` fixture of a module, pointing Django at it
    ...
    inbox.wait_for(lambda messages: len(messages) == 1)
"""

import email
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from email.policy import default as default_policy

from aiosmtpd.controller import Controller

from tests.support.processes import free_port


class Inbox:
    """aiosmtpd's handler: keeps every message it accepts."""

    def __init__(self):
        self.messages: list[EmailMessage] = []
        self.recipients: list[list[str]] = []
        self._changed = threading.Condition()

    async def handle_DATA(self, server, session, envelope):
        with self._changed:
            self.recipients.append(list(envelope.rcpt_tos))
            self.messages.append(email.message_from_bytes(envelope.content, policy=default_policy))
            self._changed.notify_all()
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if address in m["To"]]

    def wait_for(
        self, condition: Callable[[list[EmailMessage]], bool], timeout: float = 60
    ) -> list[EmailMessage]:
        """Wait until `condition(messages)` holds (a bound for a hung system, not a speed check)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not condition(self.messages):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"SMTP inbox: condition not met; got {self.messages!r}")
                self._changed.wait(left)
            return list(self.messages)


@contextmanager
def smtp_inbox() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield inbox, controller.port
    finally:
        controller.stop()


def point_django_at(settings, port: int) -> None:
    """Send Django's mail (pytest-django's `settings`) to the SMTP server on `port`."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
