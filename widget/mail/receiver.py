"""The built-in SMTP receiver of emailed replies (aiosmtpd): `manage.py mail_receiver`.

It answers `RCPT TO` itself: an address that is not a reply address Parley signed for a
conversation that can take mail (widget.mail.inbound.recipient_resolve) gets `550 5.1.1`, so
the sending server tells its user at once and nothing is stored. Accepted mail goes to
`inbound_receive` (bounces and automatic replies are accepted and dropped: refusing them would
make the sending server bounce a bounce). Both run as sync units on one thread of their own,
through Channels' `database_sync_to_async` (which closes the database connections Django
considers expired around each unit): never on the event loop.
"""

import logging

from aiosmtpd.smtp import SMTP, Envelope, Session
from channels.db import database_sync_to_async

from widget.mail.inbound import Outcome, UnknownRecipient, inbound_receive, recipient_resolve

log = logging.getLogger(__name__)


def _known(address: str) -> bool:
    try:
        recipient_resolve(address)
    except UnknownRecipient:
        return False
    return True


class ReplyHandler:
    """aiosmtpd's handler: RCPT checks the address, DATA hands the email to the service."""

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options
    ) -> str:
        if not await database_sync_to_async(_known)(address):
            log.info("inbound SMTP: refused recipient %s", address)
            return "550 5.1.1 No conversation has this address"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8", errors="surrogateescape")
        outcome = await database_sync_to_async(inbound_receive)(
            raw=raw, recipients=list(envelope.rcpt_tos), envelope_sender=envelope.mail_from
        )
        log.info("inbound SMTP: %s", outcome.value)
        if outcome is Outcome.RATE_LIMITED:
            return "451 4.7.1 Too many messages in this conversation now; try again later"
        return "250 OK"
