"""Email continuity end to end (issue 18's acceptance): real processes all the way.

A real widget in chromium on a customer page (a visitor who gave their email through
`identify`) writes and leaves; the agent answers from the dashboard's conversation page; after
the (shortened) delay `manage.py email_continuity` emails the answer, with a reply address, to
the test's SMTP server (aiosmtpd); the test answers that email over SMTP to `manage.py
mail_receiver`, and the answer appears live on the agent's page (the receiver publishes through
Redis to daphne's sockets). A bounce and an automatic reply create nothing, an address altered by
one character is refused with 550, and the email's unsubscribe link stops the emails.
"""

import re
import smtplib
import subprocess
import sys
import time
from email.message import EmailMessage
from email.utils import make_msgid

import pytest
from django_tenants.utils import tenant_context
from playwright.sync_api import expect

from tenants.models import SiteKey
from tests.support.browser import recorded_page
from tests.support.customer_pages import customer_pages
from tests.support.dashboard_server import dashboard_server, log_in
from tests.support.processes import ROOT, free_port
from tests.support.redis import RedisServer
from tests.support.smtp import smtp_inbox
from widget.models import Conversation, Message, Visitor
from widget.services.messages import message_post

# Transactional: what the test stores itself must be committed for the sender to see it.
pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SHOP = "Acme Outdoor"
REPLY_DOMAIN = "reply.acme-e2e.test"
DELAY = "2"  # seconds an agent's message stays unseen before it is emailed
# Milliseconds to wait for what crosses processes (the receiver, Redis, daphne, the socket) on a
# busy machine: a bound, not a speed check.
LIVE = 20_000
REPLY_ADDRESS = re.compile(rf"c-\d+-\d+-v-[a-z2-7]{{16}}@{re.escape(REPLY_DOMAIN)}")


def _page(platform_url: str, site_key: str) -> str:
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Tents · {SHOP}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><h1>Tents</h1>
  <script>
    window.Parley = window.Parley || function () {{ (Parley.q = Parley.q || []).push(arguments); }};
    Parley("identify", {{ id: "grace-1906", name: "Grace Hopper", email: "grace@example.com" }});
  </script>
  <script src="{platform_url}/widget.js" data-site-key="{site_key}" async></script>
</body></html>"""


def _seed(tenant, site, owner) -> dict:
    """Alan, another visitor with an email, whose conversation tells when a run has passed."""
    alan = Visitor.objects.create(site_id=site.id, name="Alan Turing", email="alan@example.com")
    control = Conversation.objects.create(room="cv_alan", site_id=site.id, visitor=alan)
    return {"control": control.pk}


def _wait_for_smtp(port: int, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout  # a bound for a hung start, not a speed check
    while True:
        try:
            with smtplib.SMTP("127.0.0.1", port, timeout=5) as smtp:
                smtp.noop()
            return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("mail_receiver did not start") from None
            time.sleep(0.1)


def _stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def stack(django_db_setup, django_db_blocker):
    redis = RedisServer()
    pages: dict[str, str] = {}
    receiver_port = free_port()
    try:
        with (
            smtp_inbox() as (inbox, smtp_port),
            customer_pages(pages) as origin,
            dashboard_server(
                django_db_blocker,
                slug="email-e2e",
                name=SHOP,
                origins=(origin,),
                seed=_seed,
                REDIS_URL=redis.url,
                EMAIL_URL=f"smtp://127.0.0.1:{smtp_port}",
                PARLEY_EMAIL_REPLY_DOMAIN=REPLY_DOMAIN,
                PARLEY_EMAIL_CONTINUITY_DELAY=DELAY,
                PARLEY_INBOUND_SMTP_PORT=str(receiver_port),
            ) as server,
        ):
            # The sender and the receiver, as `make run` starts them, on the same settings.
            environment = dict(server.daphne._environment)
            processes = [
                subprocess.Popen([sys.executable, "manage.py", *command], cwd=ROOT, env=environment)
                for command in (["email_continuity", "--every", "0.5"], ["mail_receiver"])
            ]
            try:  # stopped before the tenant is dropped
                _wait_for_smtp(receiver_port, processes[1])
                with django_db_blocker.unblock():
                    key = SiteKey.objects.filter(site=server.site, revoked_at=None).first().key
                pages["/"] = _page(server.platform_url, key)
                server.origin, server.inbox, server.receiver_port = origin, inbox, receiver_port
                server.db_blocker = django_db_blocker
                yield server
            finally:
                _stop(processes)
    finally:
        redis.stop()


def _messages(stack, room: str) -> list[tuple[str, str]]:
    with stack.db_blocker.unblock(), tenant_context(stack.tenant):
        return list(
            Message.objects.filter(conversation__room=room)
            .order_by("id")
            .values_list("author_kind", "text")
        )


def _send(stack, message: EmailMessage, *, recipient: str, sender: str) -> None:
    with smtplib.SMTP("127.0.0.1", stack.receiver_port, timeout=30) as smtp:
        smtp.sendmail(sender, [recipient], message.as_bytes())


def _email(*, to: str, text: str, subject: str, headers: dict | None = None) -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = (
        "Grace Hopper <grace@example.com>",
        to,
        subject,
    )
    message["Message-ID"] = make_msgid(domain="example.com")
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(text)
    return message


def test_an_answer_follows_the_visitor_by_email_and_their_reply_comes_back_live(
    stack, module_browser
):
    inbox = stack.inbox
    with recorded_page(module_browser, width=1280) as visitor:
        shopper = visitor.page
        shopper.goto(f"{stack.origin}/")
        shopper.get_by_role("button", name=re.compile(r"^Open chat")).click()
        panel = shopper.get_by_role("dialog", name=f"{SHOP} site")
        box = shopper.get_by_label("Your message")
        box.fill("Do you still have the blue four-season tent?")
        box.press("Enter")
        expect(panel.locator("li.mine:not(.pending)")).to_have_count(1, timeout=LIVE)
        room = shopper.evaluate(
            """() => {
              const key = Object.keys(localStorage).find((k) => k.endsWith(':session'));
              return JSON.parse(localStorage.getItem(key)).conversation;
            }"""
        )
        visitor.assert_clean()
    # The visitor has left: the tab is closed.

    with recorded_page(module_browser, width=1280, height=900) as agent:
        page = agent.page
        log_in(page, stack)
        page.goto(f"{stack.tenant_url}/conversations/room/{room}/")
        expect(page.locator("#live-status")).to_have_attribute("data-state", "live", timeout=LIVE)
        page.fill("#id_text", "Yes, two left. Shall I hold one for you until Friday?")
        page.keyboard.press("Enter")
        expect(page.locator("#messages li.message").last.locator(".text")).to_have_text(
            "Yes, two left. Shall I hold one for you until Friday?"
        )

        # After the delay: one email, with the answer and the conversation's reply address.
        inbox.wait_for(lambda messages: any("grace@example.com" in m["To"] for m in messages))
        (sent,) = inbox.to("grace@example.com")
        body = sent.get_content()
        assert "Yes, two left. Shall I hold one for you until Friday?" in body
        assert sent["From"] == f"{SHOP} <no-reply@localhost>"
        reply_to = sent["Reply-To"]
        assert REPLY_ADDRESS.fullmatch(reply_to), reply_to

        # The visitor answers from their mail app: quoted text and signature go.
        answer = _email(
            to=reply_to,
            subject=f"Re: {sent['Subject']}",
            text=(
                "Yes please, I will pick it up on Friday.\n\n-- \nGrace Hopper\n\n"
                f"On Fri, {SHOP} <no-reply@localhost> wrote:\n> Yes, two left.\n"
            ),
        )
        _send(stack, answer, recipient=reply_to, sender="grace@example.com")
        arrived = page.locator("#messages li.message").last
        expect(arrived.locator(".text")).to_have_text(
            "Yes please, I will pick it up on Friday.", timeout=LIVE
        )
        expect(arrived.locator(".via-tag")).to_have_text("By email")
        agent.screenshot("email-reply-live-desktop.png", full_page=True)

        before = _messages(stack, room)
        assert before[-1] == ("visitor", "Yes please, I will pick it up on Friday.")
        # A bounce and an automatic reply to the same address: accepted, and nothing created.
        bounce = _email(to=reply_to, subject="Undelivered Mail Returned to Sender", text="Failed")
        _send(stack, bounce, recipient=reply_to, sender="")
        out_of_office = _email(
            to=reply_to,
            subject="Out of office",
            text="I am away until Monday.",
            headers={"Auto-Submitted": "auto-replied"},
        )
        _send(stack, out_of_office, recipient=reply_to, sender="grace@example.com")
        # An address altered by one character: refused at RCPT, nothing created.
        local, _, domain = reply_to.partition("@")
        altered = f"{local[:-1]}{'a' if local[-1] != 'a' else 'b'}@{domain}"
        with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
            _send(
                stack, _email(to=altered, subject="Re:", text="Hi"), recipient=altered, sender="g@x"
            )
        assert refused.value.recipients[altered][0] == 550
        assert _messages(stack, room) == before
        expect(page.locator("#messages li.message")).to_have_count(len(before))

        page.set_viewport_size({"width": 375, "height": 800})
        page.reload()
        arrived = page.locator("#messages li.message").last
        expect(arrived.locator(".text")).to_have_text("Yes please, I will pick it up on Friday.")
        expect(arrived.locator(".via-tag")).to_have_text("By email")  # from the server too
        expect(page.locator("#messages .via-tag")).to_have_count(1)
        agent.screenshot("email-reply-live-375.png", full_page=True)
        agent.assert_clean()

    # The unsubscribe link of the email: the page asks, one click stops the emails.
    unsubscribe = re.search(r"No more emails: (\S+)", body)[1]
    assert sent["List-Unsubscribe"].strip() == f"<{unsubscribe}>"
    with recorded_page(module_browser, width=1280) as reader:
        page = reader.page
        page.goto(unsubscribe)
        expect(page.get_by_role("heading", name="Stop these emails?")).to_be_visible()
        reader.screenshot("email-unsubscribe-desktop.png", full_page=True)
        page.set_viewport_size({"width": 375, "height": 700})
        reader.screenshot("email-unsubscribe-375.png", full_page=True)
        page.get_by_role("button", name="Unsubscribe").click()
        expect(page.get_by_role("heading", name="You are unsubscribed")).to_be_visible()
        reader.screenshot("email-unsubscribed-375.png", full_page=True)
        reader.assert_clean()

    # Another answer to Grace, then one to Alan: when Alan's email arrives, the sender has passed
    # Grace's (older) answer, and sent her nothing.
    with stack.db_blocker.unblock(), tenant_context(stack.tenant):
        grace = Conversation.objects.get(room=room)
        alan = Conversation.objects.get(pk=stack.seeded["control"])
        for conversation, text in ((grace, "It is on hold for you."), (alan, "Hello Alan.")):
            message_post(
                tenant_id=stack.tenant.id,
                conversation=conversation,
                text=text,
                author_kind="agent",
                author_name="Agent",
            )
    inbox.wait_for(lambda messages: any("alan@example.com" in m["To"] for m in messages))
    assert len(inbox.to("grace@example.com")) == 1
