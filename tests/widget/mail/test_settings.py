"""The email settings come from the environment: EMAIL_URL (django-environ) names the outbound
server, ANYMAIL_<NAME> variables configure a provider, and production keeps reading the older
EMAIL_HOST... variables when EMAIL_URL is unset."""

import json
import secrets
import subprocess
import sys

import pytest

from tests.support.processes import ROOT, parley_environment

READ = (
    "import json, django; django.setup(); from django.conf import settings as s; "
    "print(json.dumps([s.EMAIL_BACKEND, s.EMAIL_HOST, s.EMAIL_PORT, s.EMAIL_HOST_USER, "
    "s.EMAIL_USE_TLS, s.EMAIL_USE_SSL, s.ANYMAIL, s.EMAIL_CONTINUITY_DELAY, "
    "s.EMAIL_REPLY_DOMAIN, s.INBOUND_SMTP_PORT]))"
)
SMTP = "django.core.mail.backends.smtp.EmailBackend"


def settings_of(module: str, **environment: str) -> list:
    env = parley_environment(
        DJANGO_SETTINGS_MODULE=module,
        SECRET_KEY=secrets.token_urlsafe(60),
        DATABASE_URL="postgres://parley@127.0.0.1:1/parley",  # not reached
        REDIS_URL="redis://127.0.0.1:1/0",
        PARLEY_PLATFORM_HOST="chat.example.com",
        **environment,
    )
    for name in ("EMAIL_URL", "EMAIL_BACKEND", "EMAIL_HOST", "PARLEY_EMAIL_CONTINUITY_DELAY"):
        if name not in environment:
            env.pop(name, None)
    done = subprocess.run(
        [sys.executable, "-c", READ], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.parametrize("module", ["config.settings.production", "config.settings.local"])
def test_email_url_names_the_outbound_server(module):
    values = settings_of(module, EMAIL_URL="smtp+tls://parley:secret@mail.example.com:587")
    assert values[:6] == [SMTP, "mail.example.com", 587, "parley", True, False]


def test_a_provider_is_configured_with_anymail_variables():
    values = settings_of(
        "config.settings.production",
        EMAIL_BACKEND="anymail.backends.postmark.EmailBackend",
        ANYMAIL_POSTMARK_SERVER_TOKEN="pm-token",
        ANYMAIL_WEBHOOK_SECRET="postmark:a-long-secret",
        PARLEY_EMAIL_CONTINUITY_DELAY="300",
    )
    assert values[0] == "anymail.backends.postmark.EmailBackend"
    assert values[6] == {
        "POSTMARK_SERVER_TOKEN": "pm-token",
        "WEBHOOK_SECRET": "postmark:a-long-secret",
    }
    assert values[7:] == [300.0, "reply.chat.example.com", 2525]


def test_without_email_url_production_reads_the_older_variables():
    values = settings_of("config.settings.production", EMAIL_HOST="smtp.example.com")
    assert values[:5] == [SMTP, "smtp.example.com", 587, "", True]
