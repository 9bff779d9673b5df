"""Emails as mail apps and mail servers write them, for the inbound tests."""

from email.message import EmailMessage
from email.utils import make_msgid

QUOTED_REPLY = """Thanks, I will take the blue one in 38.

Could you hold it until Friday?

--\x20
Grace Hopper
Rear Admiral, US Navy

On Fri, 4 Dec 2026 at 14:02, Alpha Inc <no-reply@localhost> wrote:
> Ada Lovelace · 04 Dec 2026, 14:01
> Yes, two left in size 38.
>
> Reply to this email to answer: your reply goes into the same conversation.
"""
REPLY_TEXT = "Thanks, I will take the blue one in 38.\n\nCould you hold it until Friday?"


def reply(
    to: str,
    *,
    sender: str = "Grace Hopper <grace@example.com>",
    subject: str = "Re: Alpha Inc: 1 new message for you",
    text: str = QUOTED_REPLY,
    headers: dict[str, str] | None = None,
    html: str | None = None,
) -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, to, subject
    message["Message-ID"] = make_msgid(domain="example.com")
    for name, value in (headers or {}).items():
        message[name] = value
    if html is None:
        message.set_content(text)
    else:
        message.set_content(html, subtype="html")
    return message


def delivery_report(to: str, original: EmailMessage) -> EmailMessage:
    """A DSN (RFC 3464) as a mail server sends one about a failed delivery."""
    report = EmailMessage()
    report["From"] = "Mail Delivery System <mailer-daemon@mx.example.com>"
    report["To"], report["Subject"] = to, "Undelivered Mail Returned to Sender"
    report.set_content("This is the mail system. Your message could not be delivered.")
    report.add_attachment(
        "Reporting-MTA: dns; mx.example.com\n\nFinal-Recipient: rfc822; gone@example.com\n"
        "Action: failed\nStatus: 5.1.1\n",
        subtype="delivery-status",
    )
    report.add_attachment(original)
    report.set_type("multipart/report")
    report.set_param("report-type", "delivery-status")
    return report
