"""Parley's server command: daphne, with a graceful drain on SIGTERM and SIGINT.

    PYTHONPATH=.:platform python -m core.serve [daphne options] config.asgi:application

Plain daphne stops at once on SIGTERM and cancels every open socket (clients see 1006 and wait
for their backoff). Here the signal first stops the listening ports, then drains (core/drain.py:
/readyz 503, queued messages stored and acknowledged, every socket closed with 1012) within
PARLEY_DRAIN_SECONDS, and only then stops the reactor. A second signal stops at once. This is the
only shutdown path that drains: plain `daphne` (and the tests' in-process servers) do not.
"""

import asyncio
import logging
import os
import signal

from daphne.cli import CommandLineInterface
from daphne.server import Server
from twisted.internet import reactor

logger = logging.getLogger("parley.serve")
DRAIN_SECONDS = float(os.environ.get("PARLEY_DRAIN_SECONDS", "20"))


class DrainingServer(Server):
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


class ParleyCommandLine(CommandLineInterface):
    server_class = DrainingServer


def _plain_autobahn_debug_strings() -> None:
    """autobahn builds the arguments of a debug log line on every frame it sends, even with
    debug logging off, and colours them with click when click is importable (a test tool pulls
    it in): measured at 7% of a busy worker's CPU. Plain strings cost next to nothing."""
    from autobahn import util

    util._HAS_CLICK = False


_plain_autobahn_debug_strings()


if __name__ == "__main__":
    ParleyCommandLine.entrypoint()
