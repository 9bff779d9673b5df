"""No token, key or secret reaches a log line, whichever way it is logged; an event repeated
many times a second is logged once per interval, with its count."""

import logging
import threading

import pytest
import structlog

from core.logging import REDACTED, BackgroundHandler, Occasional, redact_event, scrub
from tenants.tokens import token_issue

SITE_KEY = "pk_Qv4hNZvJ2dm0CzljcyBbWbAH"
API_KEY = "sk_s5y0eT3VA-17hjWUfXzOQ20Q415Q9CCMHQOUJXS45Mo"


def test_sensitive_field_names_are_redacted_whatever_their_value():
    event = redact_event(
        None,
        "info",
        {"event": "x", "token": "abc", "identity_secret": "s", "Authorization": "x", "n": 3},
    )
    assert event == {
        "event": "x",
        "token": REDACTED,
        "identity_secret": REDACTED,
        "Authorization": REDACTED,
        "n": 3,
    }


def test_key_and_token_shapes_are_scrubbed_from_free_text():
    visitor_token, _ = token_issue(tenant_id=1, site_id=1, visitor_id="v", conversation="cv_x")
    text = scrub(
        f"key {SITE_KEY} api {API_KEY} auth Bearer {API_KEY} token {visitor_token} path /x?a=1"
    )
    assert SITE_KEY not in text
    assert API_KEY not in text
    assert visitor_token not in text
    assert "path /x?a=1" in text


@pytest.mark.django_db
def test_stdlib_and_structlog_lines_come_out_redacted(log_output):
    logging.getLogger("some.library").warning("refused key %s", SITE_KEY)
    structlog.get_logger("parley").info("issued", api_key=API_KEY, note=f"for {API_KEY}")
    logged = log_output.getvalue()
    assert "refused key" in logged
    assert "issued" in logged
    assert SITE_KEY not in logged
    assert API_KEY not in logged


def test_a_repeated_event_is_logged_once_per_interval_with_its_count(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr("core.logging.time.monotonic", lambda: now[0])
    occasional = Occasional(60)
    assert occasional.happened() == 1  # the first one at once
    assert [occasional.happened(), occasional.happened(5)] == [0, 0]  # then quiet
    now[0] += 59
    assert occasional.happened() == 0
    now[0] += 1
    assert occasional.happened() == 8  # the interval is over: everything since the last line


def _fail_with_secrets_in_locals():
    password = "correct-horse-battery-staple"  # noqa: F841 (a local a traceback must not show)
    raise RuntimeError(f"refused {API_KEY}")


@pytest.mark.django_db
def test_a_traceback_shows_no_local_variable_and_is_scrubbed(log_output):
    try:
        _fail_with_secrets_in_locals()
    except RuntimeError:
        logging.getLogger("widget.consumers").exception("socket frame failed")
    logged = log_output.getvalue()
    assert "Traceback" in logged
    assert "_fail_with_secrets_in_locals" in logged
    assert "correct-horse-battery-staple" not in logged
    assert API_KEY not in logged


class _StuckOutput:
    """A stream nobody reads (a full pipe): every write waits until it is released."""

    def __init__(self):
        self.released = threading.Event()
        self.lines = []

    def write(self, text):
        self.released.wait()
        self.lines.append(text)

    def flush(self):
        pass


def test_logging_returns_at_once_while_the_output_is_stuck():
    """The thread that logs (the event loop) only queues: five tracebacks logged while the output
    blocks every write all return, and reach the output once it takes them."""
    handler = next(h for h in logging.getLogger().handlers if isinstance(h, BackgroundHandler))
    stuck = _StuckOutput()
    previous = handler.setStream(stuck)
    logger = logging.getLogger("widget.consumers")

    def log_five():
        for n in range(5):
            try:
                raise ValueError(f"frame {n}")
            except ValueError:
                logger.exception("socket frame failed")

    caller = threading.Thread(target=log_five)
    caller.start()
    caller.join(timeout=30)
    try:
        assert not caller.is_alive(), "logging waited for the stuck output"
    finally:
        stuck.released.set()
        handler.setStream(previous)
    written = "".join(stuck.lines)
    assert all(f"frame {n}" in written for n in range(5))
