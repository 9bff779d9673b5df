"""Production settings pass Django's deployment checklist: HTTPS only, HSTS, secure cookies."""

import secrets
import subprocess
import sys

from tests.support.processes import ROOT, parley_environment


def test_production_settings_pass_the_deployment_checks():
    environment = parley_environment(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        SECRET_KEY=secrets.token_urlsafe(60),
        DATABASE_URL="postgres://parley@127.0.0.1:1/parley",  # not reached by the checks
        REDIS_URL="redis://127.0.0.1:1/0",
        PARLEY_PLATFORM_HOST="chat.example.com",
    )
    script = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT, "
        "s.SECURE_HSTS_SECONDS >= 31536000, s.X_FRAME_OPTIONS, s.SESSION_COOKIE_HTTPONLY)"
    )
    values = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=environment, capture_output=True, text=True
    )
    assert values.stdout.split() == ["True", "True", "True", "True", "DENY", "True"], values.stderr

    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
