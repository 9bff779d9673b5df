"""Email fixtures: a real SMTP server on loopback that Django sends to (`smtp`), and the reply
domain of the tests."""

import pytest

from tests.support.smtp import point_django_at, smtp_inbox

REPLY_DOMAIN = "reply.parley.test"


@pytest.fixture(autouse=True)
def _reply_domain(settings):
    settings.EMAIL_REPLY_DOMAIN = REPLY_DOMAIN
    settings.EMAIL_CONTINUITY_DELAY = 120


@pytest.fixture
def smtp(settings):
    with smtp_inbox() as (inbox, port):
        point_django_at(settings, port)
        yield inbox
