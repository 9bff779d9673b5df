"""The demo's mail catcher: `make run` sends every outgoing email (EMAIL_URL) to an SMTP server
of its own (aiosmtpd) that keeps them in a Maildir, `PARLEY_DEMO_MAIL_DIR`, instead of the
world; the page `/demo/mail/` of the demo dashboard shows them and can answer one as its
recipient would, through the SMTP receiver of replies (`manage.py mail_receiver`). So a
newcomer sees email continuity both ways without any mail account (docs/EMAIL.md).
"""

import email
import mailbox
import smtplib
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.policy import default as default_policy
from email.utils import make_msgid, parsedate_to_datetime
from pathlib import Path

from aiosmtpd.controller import Controller
from django.conf import settings


def maildir_open(folder: Path | str) -> mailbox.Maildir:
    """The Maildir at `folder`, made whole first (Maildir creates its subfolders only when the
    folder itself does not exist yet)."""
    for part in ("tmp", "new", "cur"):
        Path(folder, part).mkdir(parents=True, exist_ok=True)
    return mailbox.Maildir(folder, factory=None, create=False)


class CatchingHandler:
    """aiosmtpd's handler: every message into the Maildir, nothing sent on."""

    def __init__(self, folder: Path):
        self.maildir = maildir_open(folder)

    async def handle_DATA(self, server, session, envelope) -> str:
        self.maildir.add(envelope.original_content or envelope.content)
        return "250 Message kept by the demo's mail catcher"


def catcher_start(*, folder: Path, host: str = "127.0.0.1", port: int) -> Controller:
    controller = Controller(CatchingHandler(folder), hostname=host, port=port)
    controller.start()
    return controller


@dataclass(frozen=True)
class CaughtMail:
    key: str
    message: EmailMessage
    sent_at: datetime | None

    @property
    def text(self) -> str:
        body = self.message.get_body(preferencelist=("plain",))
        return body.get_content() if body is not None else ""

    @property
    def reply_to(self) -> str:
        return str(self.message.get("Reply-To") or "")


def _maildir() -> mailbox.Maildir:
    return maildir_open(settings.DEMO_MAIL_DIR)


def _caught(key: str, raw: bytes) -> CaughtMail:
    message = email.message_from_bytes(raw, policy=default_policy)
    try:
        sent_at = parsedate_to_datetime(str(message.get("Date")))
    except (TypeError, ValueError):
        sent_at = None
    return CaughtMail(key=key, message=message, sent_at=sent_at)


def caught_mail(*, limit: int = 50) -> list[CaughtMail]:
    """The newest caught emails first."""
    folder = _maildir()
    mails = [_caught(key, folder.get_bytes(key)) for key in folder.iterkeys()]
    mails.sort(key=lambda mail: mail.sent_at.timestamp() if mail.sent_at else 0, reverse=True)
    return mails[:limit]


def caught_one(key: str) -> CaughtMail | None:
    folder = _maildir()
    try:
        return _caught(key, folder.get_bytes(key))
    except KeyError:
        return None


def reply_send(*, original: CaughtMail, text: str) -> None:
    """Answer a caught email as its recipient: to its Reply-To, through the SMTP receiver.
    smtplib's errors (a refused address, a receiver that is not running) go to the caller."""
    quoted = "".join(f"> {line}\n" for line in original.text.splitlines())
    sent_on = original.sent_at.strftime("%a, %d %b %Y at %H:%M") if original.sent_at else "?"
    reply = EmailMessage()
    reply["From"] = str(original.message["To"])
    reply["To"] = original.reply_to
    reply["Subject"] = "Re: " + str(original.message.get("Subject") or "")
    reply["Message-ID"] = make_msgid(domain="demo.parley.test")
    if original.message.get("Message-ID"):
        reply["In-Reply-To"] = reply["References"] = str(original.message["Message-ID"])
    reply.set_content(f"{text}\n\nOn {sent_on}, {original.message['From']} wrote:\n{quoted}")
    host = settings.INBOUND_SMTP_HOST
    host = "127.0.0.1" if host in ("", "0.0.0.0", "::") else host
    with smtplib.SMTP(host, settings.INBOUND_SMTP_PORT, timeout=10) as smtp:
        smtp.send_message(reply)
