"""Parley's server command: daphne, with a graceful drain on SIGTERM and SIGINT.

    PYTHONPATH=.:platform python -m core.serve [daphne options] config.asgi:application

Plain daphne stops at once on SIGTERM and cancels every open socket (clients see 1006 and wait
for their backoff). Here the signal first stops the listening ports, then drains (core/drain.py:
/readyz 503, queued messages stored and acknowledged, every socket closed with 1012) within
PARLEY_DRAIN_SECONDS, and only then stops the reactor. A second signal stops at once. This is the
only shutdown path that drains: plain `daphne` (and the tests' in-process servers) do not.

Slow or stalled clients are cut off: an HTTP request (a WebSocket upgrade included) must arrive
whole within PARLEY_HTTP_REQUEST_TIMEOUT seconds of its first byte, and a new connection must
start one within that time (Twisted alone only times out 60 s of silence, which a client sending
a byte now and then never reaches: a slow-loris). Once upgraded, daphne's
`--websocket_connect_timeout` bounds the handshake and its pings find dead peers; the sockets'
own watchdog closes one that does not authenticate (4401) or goes idle (4408). `DEFAULT_OPTIONS`
are daphne's options for all of this, used unless the command line gives its own.
"""

import asyncio
import logging
import os
import pprint
import signal

import daphne.cli
from daphne.cli import CommandLineInterface
from daphne.endpoints import build_endpoint_description_strings
from daphne.server import Server
from twisted.internet import reactor
from twisted.web import http

logger = logging.getLogger("parley.serve")
DRAIN_SECONDS = float(os.environ.get("PARLEY_DRAIN_SECONDS", "20"))
REQUEST_TIMEOUT = float(os.environ.get("PARLEY_HTTP_REQUEST_TIMEOUT", "10"))
# Connections the kernel queues for accept(); it caps this at net.core.somaxconn.
LISTEN_BACKLOG = int(os.environ.get("PARLEY_LISTEN_BACKLOG", "2048"))
DEFAULT_OPTIONS = [
    "--websocket_connect_timeout", "10",  # upgrade received -> accepted or refused
    "--ping-interval", "20",  # a ping on every socket silent for 20 s ...
    "--ping-timeout", "30",  # ... and the socket closed if no pong comes within 30 s
    "--application-close-timeout", "20",
]  # fmt: skip


class DeadlineChannel(http.HTTPChannel):
    """An HTTP connection whose request must arrive whole within REQUEST_TIMEOUT seconds of its
    first byte (of the connection, for the first request); else it is aborted."""

    def connectionMade(self):
        super().connectionMade()
        self._deadline = reactor.callLater(REQUEST_TIMEOUT, self._too_slow)

    def dataReceived(self, data):
        if self._deadline is None and not self._handlingRequest:
            self._deadline = reactor.callLater(REQUEST_TIMEOUT, self._too_slow)
        super().dataReceived(data)

    def allContentReceived(self):
        self._cancel_deadline()
        super().allContentReceived()

    def connectionLost(self, reason):
        self._cancel_deadline()
        super().connectionLost(reason)

    def _cancel_deadline(self):
        if self._deadline is not None and self._deadline.active():
            self._deadline.cancel()
        self._deadline = None

    def _too_slow(self):
        self._deadline = None
        logger.info("closing an HTTP connection whose request took over %s s", REQUEST_TIMEOUT)
        self.transport.abortConnection()


def _deadline_protocol():
    # What twisted.web's HTTPFactory builds by default (a wrapper that can switch to HTTP/2),
    # around our channel.
    return http._GenericHTTPChannelProtocol(DeadlineChannel())


class DrainingServer(Server):
    @property
    def http_factory(self):
        return self._http_factory

    @http_factory.setter
    def http_factory(self, factory):
        # daphne's run() makes its HTTP factory and listens at once: give it our channel here.
        factory.protocol = _deadline_protocol
        self._http_factory = factory

    def __init__(self, *args, **kwargs):
        kwargs["signal_handlers"] = False
        super().__init__(*args, **kwargs)
        self.ports = []
        self._stopping = False

    def run(self):
        reactor.callWhenRunning(self._install_signal_handlers)
        super().run()

    def listen_success(self, port):
        self.ports.append(port)
        super().listen_success(port)

    def _install_signal_handlers(self):
        loop = asyncio.get_event_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, self._on_signal)

    def _on_signal(self):
        if self._stopping:
            reactor.stop()
            return
        self._stopping = True
        self._drain_task = asyncio.ensure_future(self._drain_then_stop())

    async def _drain_then_stop(self):
        from core.drain import drain_all

        for port in self.ports:
            port.stopListening()
        try:
            await drain_all(timeout=DRAIN_SECONDS)
            logger.info("drained; stopping")
        finally:
            reactor.stop()


def _endpoints_with_backlog(*args, **kwargs) -> list[str]:
    """daphne's listening endpoints (from `-b`/`-p`/`-u`), with a listen backlog of
    LISTEN_BACKLOG. Twisted's default is 50: when a thousand widgets reconnect at once (a worker
    drained, a network blip), the kernel drops the connections past it and each client waits a
    second or more for its SYN to be retried."""
    endpoints = build_endpoint_description_strings(*args, **kwargs)
    listening = ("tcp:", "unix:")
    return [f"{e}:backlog={LISTEN_BACKLOG}" if e.startswith(listening) else e for e in endpoints]


daphne.cli.build_endpoint_description_strings = _endpoints_with_backlog


class ParleyCommandLine(CommandLineInterface):
    server_class = DrainingServer

    def run(self, args):
        # Options given later win: the command line overrides the defaults.
        super().run([*DEFAULT_OPTIONS, *args])


class _LazyPformat:
    """`pprint.pformat(value)`, done only if the log line is written."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value

    def __str__(self) -> str:
        return pprint.pformat(self.value)

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)


def _plain_autobahn_debug_strings() -> None:
    """autobahn builds the arguments of debug log lines even with debug logging off: it colours
    them with click on every frame sent when click is importable (a test tool pulls it in),
    measured at 7% of a busy worker's CPU, and pretty-prints its settings for every new socket,
    9% of the CPU of a burst of connections. Plain strings, and a pformat done only if the line
    is written, cost next to nothing."""
    from autobahn import util
    from autobahn.websocket import protocol

    util._HAS_CLICK = False
    protocol.pformat = _LazyPformat


_plain_autobahn_debug_strings()


if __name__ == "__main__":
    ParleyCommandLine.entrypoint()
