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
a byte now and then never reaches: a slow-loris); a keep-alive connection idle for that time
between requests is closed. Once upgraded, daphne's
`--websocket_connect_timeout` bounds the handshake and its pings find dead peers; the sockets'
own watchdog closes one that does not authenticate (4401) or goes idle (4408). Until it
authenticates, a socket's frames may be at most PARLEY_WS_UNAUTHENTICATED_FRAME_BYTES (4 KiB).
`DEFAULT_OPTIONS` are daphne's options for all of this, used unless the command line gives its
own.

What this takes from daphne's, Twisted's and autobahn's internals goes through
core/server_internals.py.
"""

import asyncio
import logging
import os
import signal

from core.server_internals import (
    DaphneServer,
    DeadlineHTTPChannel,
    ServerCommandLine,
    listen_with_backlog,
    message_limit_for_incoming_only,
    plain_autobahn_debug_strings,
)

logger = logging.getLogger("parley.serve")
DRAIN_SECONDS = float(os.environ.get("PARLEY_DRAIN_SECONDS", "20"))
REQUEST_TIMEOUT = float(os.environ.get("PARLEY_HTTP_REQUEST_TIMEOUT", "10"))
# Connections the kernel queues for accept(); it caps this at net.core.somaxconn.
LISTEN_BACKLOG = int(os.environ.get("PARLEY_LISTEN_BACKLOG", "2048"))
# The largest frame a socket may send before it has authenticated: an `auth` frame is a few
# hundred bytes. daphne's own default, 1 MiB, let 200 sockets that never authenticate hold 175 MB
# of half-sent frames. A socket that authenticates is allowed more (`DaphneSocket.allow_frames`).
UNAUTHENTICATED_FRAME_BYTES = os.environ.get("PARLEY_WS_UNAUTHENTICATED_FRAME_BYTES", "4096")
DEFAULT_OPTIONS = [
    "--websocket_connect_timeout", "10",  # upgrade received -> accepted or refused
    "--ping-interval", "20",  # a ping on every socket silent for 20 s ...
    "--ping-timeout", "30",  # ... and the socket closed if no pong comes within 30 s
    "--application-close-timeout", "20",
    "--websocket-max-frame-size", UNAUTHENTICATED_FRAME_BYTES,
    "--websocket-max-message-size", UNAUTHENTICATED_FRAME_BYTES,
]  # fmt: skip


class DrainingServer(DaphneServer):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._stopping = False

    def http_channel(self) -> DeadlineHTTPChannel:
        return DeadlineHTTPChannel(REQUEST_TIMEOUT)

    def on_running(self) -> None:
        loop = asyncio.get_event_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, self._on_signal)

    def _on_signal(self):
        if self._stopping:
            self.stop()
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
            self.stop()


class ParleyCommandLine(ServerCommandLine):
    server_class = DrainingServer
    default_options = tuple(DEFAULT_OPTIONS)


# Twisted's default backlog is 50: when a thousand widgets reconnect at once (a worker drained, a
# network blip), the kernel drops the connections past it and each client waits a second or more
# for its SYN to be retried.
listen_with_backlog(LISTEN_BACKLOG)
# autobahn colours its debug log lines with click on every frame sent when click is importable (a
# test tool pulls it in), measured at 7% of a busy worker's CPU, and pretty-prints its settings
# for every new socket, 9% of the CPU of a burst of connections, even with debug logging off.
plain_autobahn_debug_strings()
# The frame limits of core.serve (and of `DaphneSocket.allow_frames`) are on what clients send.
message_limit_for_incoming_only()


if __name__ == "__main__":
    ParleyCommandLine.entrypoint()
