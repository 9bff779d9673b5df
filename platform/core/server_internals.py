"""Every use Parley makes of the private or undocumented internals of daphne, Twisted, autobahn,
Channels and django-ninja: the one module to read when one of them is upgraded.

Written against daphne 4.2.3, Twisted 26.10.0, autobahn 26.7.1, channels 4.3.2 and
django-ninja 1.7.1, which pyproject.toml pins with `==`. tests/core/test_server_internals.py
checks that every internal named here still has the shape relied on, and that the installed
versions are the pinned ones: an upgrade starts there. The code outside this module uses only the
names defined here (and the packages' public APIs).

The server command (core/serve.py), daphne and Twisted:

- `DaphneServer`: daphne's `Server` with the three things the graceful drain needs, for which
  daphne has no parameter: the listening ports (kept from its `listen_success` callback; daphne
  keeps only their addresses, and a port cannot be stopped from an address), the HTTP connection
  object each new connection gets (`http_channel()`: daphne builds its `HTTPFactory` inside
  `run()` and listens at once, so the `http_factory` attribute is caught as it is assigned and its
  `protocol` replaced, wrapped as Twisted's `HTTPFactory` does by default in its private
  `_GenericHTTPChannelProtocol`), and `on_running()` once the reactor runs, with daphne's own
  signal handlers (which stop at once) off.
- `DeadlineHTTPChannel`: Twisted's `HTTPChannel`, aborted when a request does not arrive whole in
  time (a slow-loris). Twisted only times out silence (`timeOut`); the deadline reads the
  channel's private `_handlingRequest` and hooks its undocumented `allContentReceived`. Its
  silence timeout is the same `request_timeout` (Twisted's is 60 s, set by `HTTPFactory` on the
  protocol after the channel is made, so it is replaced in `connectionMade` before Twisted's own
  starts the timer on it):
  Twisted pauses it while a request is handled and restores it after each response, so it is
  the idle time allowed between keep-alive requests; an upgraded socket leaves it paused.
- `ServerCommandLine`: daphne's `CommandLineInterface` running another `server_class` (its
  undocumented class attribute) with default options before the given ones.
- `listen_with_backlog()`: daphne has no listen-backlog option; the endpoint strings its command
  line builds (the module global `daphne.cli.build_endpoint_description_strings`, looked up by
  `CommandLineInterface.run`) get Twisted's `backlog=` parameter.
- `message_limit_for_incoming_only()`: autobahn applies its `maxMessagePayloadSize` to the
  messages it sends as well as to those it receives (`sendMessage` raises past it), and has no
  option for one direction: the factory's protocol class (`WebSocketFactory.protocol`) becomes a
  subclass whose `sendMessage` lifts the limit while it sends.
- `plain_autobahn_debug_strings()`: autobahn builds the arguments of its debug log lines even
  with debug logging off, and has no switch for it: its module globals `autobahn.util._HAS_CLICK`
  (colours) and `autobahn.websocket.protocol.pformat` (per-socket settings) are replaced.

Under a socket (widget/consumers/base.py), daphne, autobahn, Twisted and Channels:

- `DaphneSocket`: the daphne protocol behind a socket's ASGI `send` (daphne's `send` is
  `functools.partial(server.handle_reply, protocol)`), to send a text message straight through
  autobahn's `sendMessage` (what daphne's `serverSend` does for `websocket.send`), to send the
  close codes ASGI's
  `websocket.close` cannot (autobahn's `sendCloseFrame`, internal by its own docstring), to count
  the bytes Twisted holds unsent (`FileDescriptor.dataBuffer`, `offset`, `_tempDataLen`; Twisted
  has no public accessor) and to abort the connection. ASGI has no notion of any of these.
- `DirectWebsocketConsumer`: Channels' `AsyncWebsocketConsumer` whose `dispatch` (undocumented)
  does not hop to the database thread before every frame, and `asgi_send`, Channels' undocumented
  `base_send` (the server's `send`, without the consumer's own `send` in between).

The JSON APIs (core/api.py), django-ninja:

- `NinjaAPIBase`: a `NinjaAPI` with one handler for every exception, registered in place of
  ninja's defaults through `set_default_exception_handlers` (undocumented; `NinjaAPI.__init__`
  calls it), and a hook on its URL patterns, from its private `_get_urls` (what `api.urls` serves).
- `raised_by_parser()`: ninja re-raises whatever the API's parser raises as `HttpError(400)`
  chained `from` it; the parser's own error is the chained one.
"""

import asyncio
import collections
import logging
import pprint
from collections.abc import Callable
from functools import partial

import autobahn.util
import autobahn.websocket.protocol
import daphne.cli
import daphne.ws_protocol
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.layers import get_channel_layer
from daphne.cli import CommandLineInterface
from daphne.endpoints import build_endpoint_description_strings
from daphne.server import Server  # installs Twisted's asyncio reactor: before `reactor` below
from ninja import NinjaAPI
from ninja.errors import HttpError
from twisted.internet import reactor
from twisted.web import http

logger = logging.getLogger(__name__)


# --- the server command -----------------------------------------------------------------------


class DaphneServer(Server):
    """daphne's Server, run without daphne's signal handlers; subclasses choose the HTTP
    connection object (`http_channel`) and act once the reactor runs (`on_running`)."""

    def __init__(self, *args, **kwargs):
        kwargs["signal_handlers"] = False
        super().__init__(*args, **kwargs)
        self.ports: list = []  # Twisted's IListeningPort of every endpoint listened on

    @property
    def http_factory(self):
        return self._http_factory

    @http_factory.setter
    def http_factory(self, factory):
        factory.protocol = self._http_protocol
        self._http_factory = factory

    def _http_protocol(self):
        return http._GenericHTTPChannelProtocol(self.http_channel())

    def http_channel(self) -> http.HTTPChannel:
        """The HTTP connection object of a new connection."""
        return http.HTTPChannel()

    def on_running(self) -> None:
        """Called once the reactor runs (on its asyncio loop)."""

    def run(self):
        reactor.callWhenRunning(self.on_running)
        super().run()

    def listen_success(self, port):
        self.ports.append(port)
        super().listen_success(port)

    def create_application(self, protocol, scope):
        """daphne's own, with a `ReceiveQueue` in place of its `asyncio.Queue`."""
        assert "application_instance" not in self.connections[protocol]
        input_queue = ReceiveQueue()
        scope.setdefault("asgi", {"version": "3.0"})
        application_instance = self.application(
            scope=scope, receive=input_queue.get, send=partial(self.handle_reply, protocol)
        )
        if protocol not in self.connections:
            return None
        self.connections[protocol]["application_instance"] = asyncio.ensure_future(
            application_instance, loop=asyncio.get_event_loop()
        )
        return input_queue


class ReceiveQueue:
    """The queue between one connection's protocol and its application: the protocol puts
    messages (`put_nowait`), the application takes them (ASGI's `receive`, `get`).

    daphne makes an `asyncio.Queue` for every connection, whose four deques (its items, getters
    and putters, and the `Event` of `join`, which nothing here uses) take 760 bytes each even
    empty: 3 KB of a quiet socket's memory. This one holds its items in a deque only while some
    wait to be taken, and its getter (there is one reader, the application) in a list.
    """

    __slots__ = ("_getters", "_items")

    def __init__(self):
        self._items: collections.deque | None = None
        self._getters: list[asyncio.Future] | None = None

    def put_nowait(self, item) -> None:
        while self._getters:
            getter = self._getters.pop(0)
            if not getter.done():
                getter.set_result(item)
                return
        self._getters = None
        if self._items is None:
            self._items = collections.deque()
        self._items.append(item)

    async def get(self):
        if self._items:
            item = self._items.popleft()
            if not self._items:
                self._items = None
            return item
        getter = asyncio.get_running_loop().create_future()
        if self._getters is None:
            self._getters = []
        self._getters.append(getter)
        try:
            return await getter
        except asyncio.CancelledError:
            if getter.done() and not getter.cancelled():
                # Given an item, then cancelled before returning it: it stays first in line.
                self._items = self._items or collections.deque()
                self._items.appendleft(getter.result())
            elif self._getters and getter in self._getters:
                self._getters.remove(getter)
            raise


class DeadlineHTTPChannel(http.HTTPChannel):
    """An HTTP connection whose request must arrive whole within `request_timeout` seconds of
    its first byte (of the connection, for the first request); else it is aborted. Idle
    between keep-alive requests for `request_timeout` seconds, it is closed."""

    def __init__(self, request_timeout: float):
        super().__init__()
        self.request_timeout = request_timeout
        self.request_deadline = None

    def connectionMade(self):
        # The silence timeout `HTTPChannel.connectionMade` starts is this one from the start:
        # setting it after would move Twisted's timer sooner, which scans every pending timer
        # of the reactor (`_moveCallLaterSooner`, "linear time find: slow"), for every new
        # connection: 14% of a worker's CPU in a burst of 1,000 connects beside 10k sockets.
        self.timeOut = self.request_timeout
        super().connectionMade()
        self.request_deadline = reactor.callLater(self.request_timeout, self._too_slow)

    def dataReceived(self, data):
        if self.request_deadline is None and not self._handlingRequest:
            self.request_deadline = reactor.callLater(self.request_timeout, self._too_slow)
        super().dataReceived(data)

    def allContentReceived(self):
        self._cancel_deadline()
        super().allContentReceived()

    def connectionLost(self, reason):
        self._cancel_deadline()
        super().connectionLost(reason)

    def _cancel_deadline(self):
        if self.request_deadline is not None and self.request_deadline.active():
            self.request_deadline.cancel()
        self.request_deadline = None

    def _too_slow(self):
        self.request_deadline = None
        logger.info("closing an HTTP connection whose request took over %s s", self.request_timeout)
        self.transport.abortConnection()


class ServerCommandLine(CommandLineInterface):
    """daphne's command line, serving with `server_class`; `default_options` come first on the
    command line, so that options given later win."""

    server_class: type[Server] = DaphneServer
    default_options: tuple[str, ...] = ()

    def run(self, args):
        super().run([*self.default_options, *args])


def listen_with_backlog(backlog: int) -> None:
    """Make the TCP and Unix endpoints of daphne's command line (`-b`/`-p`/`-u`) listen with
    this backlog (Twisted's default is 50)."""

    def endpoints_with_backlog(*args, **kwargs) -> list[str]:
        endpoints = build_endpoint_description_strings(*args, **kwargs)
        listening = ("tcp:", "unix:")
        return [f"{e}:backlog={backlog}" if e.startswith(listening) else e for e in endpoints]

    daphne.cli.build_endpoint_description_strings = endpoints_with_backlog


class _LazyPformat:
    """`pprint.pformat(value)`, done only if the log line is written."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value

    def __str__(self) -> str:
        return pprint.pformat(self.value)

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)


class _SendQueue:
    """autobahn's queue of chopped or synchronous sends (`send_queue`), which daphne never
    makes: an empty deque is 760 bytes on every socket; this one makes it when first used."""

    __slots__ = ("_queue",)

    def __init__(self):
        self._queue: collections.deque | None = None

    def __len__(self) -> int:
        return 0 if self._queue is None else len(self._queue)

    def append(self, item) -> None:
        if self._queue is None:
            self._queue = collections.deque()
        self._queue.append(item)

    def popleft(self):
        if self._queue is None:
            raise IndexError("pop from an empty queue")
        return self._queue.popleft()


class _IncomingLimitProtocol(daphne.ws_protocol.WebSocketProtocol):
    """daphne's WebSocket protocol whose message size limit applies to what it receives only,
    and which lets go of the HTTP connection object it was upgraded from."""

    def _connectionMade(self):
        super()._connectionMade()
        self.send_queue = _SendQueue()

    def connectionMade(self):
        # daphne hands the connection over with Twisted's `HTTPChannel` still registered as the
        # transport's producer (`HTTPChannel.connectionMade`), and through it the channel's
        # upgrade request, its headers and body buffer: about 4 KB held for the socket's life
        # and never used again (the WebSocket protocol does its own flow control).
        if isinstance(getattr(self.transport, "producer", None), http.HTTPChannel):
            self.transport.unregisterProducer()
        super().connectionMade()

    def sendMessage(self, *args, **kwargs):
        limit, self.maxMessagePayloadSize = self.maxMessagePayloadSize, 0
        try:
            return super().sendMessage(*args, **kwargs)
        finally:
            self.maxMessagePayloadSize = limit


def message_limit_for_incoming_only() -> None:
    """Make the WebSocket message size limit (`--websocket-max-message-size`,
    `DaphneSocket.allow_frames`) one on what clients send: a `ready` or `history` frame the
    server sends may be larger."""
    daphne.ws_protocol.WebSocketFactory.protocol = _IncomingLimitProtocol


def plain_autobahn_debug_strings() -> None:
    """Plain strings in autobahn's debug log lines (no click colours), and its pformat done only
    if the line is written."""
    autobahn.util._HAS_CLICK = False
    autobahn.websocket.protocol.pformat = _LazyPformat


# --- under a socket ---------------------------------------------------------------------------


def _text_frame_header(length: int) -> bytes:
    """The header of an unmasked, final text frame of `length` payload bytes (RFC 6455, 5.2)."""
    if length < 126:
        return bytes((0x81, length))
    if length < 1 << 16:
        return b"\x81\x7e" + length.to_bytes(2, "big")
    return b"\x81\x7f" + length.to_bytes(8, "big")


_HANDSHAKE_STRINGS = ("http_status_line", "http_request_uri", "http_response_data", "_wskey")


class DaphneSocket:
    """The daphne (autobahn over Twisted) protocol of one WebSocket connection."""

    __slots__ = ("protocol",)

    def __init__(self, protocol):
        self.protocol = protocol

    @classmethod
    def behind(cls, send: Callable) -> "DaphneSocket | None":
        """The socket behind an ASGI `send` when daphne serves it; None elsewhere (the tests'
        communicator, another server)."""
        protocol = getattr(send, "args", (None,))[0]
        return cls(protocol) if hasattr(protocol, "sendCloseFrame") else None

    def send_close(self, code: int) -> None:
        """Send a close frame with any code, those autobahn refuses through ASGI included (it
        allows only 1000 and 3000-4999 there; daphne itself sends 1011 this way)."""
        self.protocol.sendCloseFrame(code=code, isReply=False)

    def send_text(self, text: str) -> None:
        """Send a text message now, as an ASGI `websocket.send` does (daphne's `serverSend`), to
        an open socket only (a closing one gets nothing more, as daphne sends nothing to a
        connection it has seen go).

        The hot path of every fanned-out frame. Where autobahn would send the message as one
        plain frame (no compression negotiated, no fragmenting, nothing queued or half sent,
        no octet logging) the frame is written here: RFC 6455's two to ten header bytes, then
        the payload, unmasked as a server's are. autobahn's `sendMessage` -> `sendFrame` ->
        `sendData` chain was a fifth of a busy worker's event loop; what it does besides is
        its `trafficStats` counters, which nothing here reads. Otherwise autobahn sends it."""
        protocol = self.protocol
        if protocol.state != protocol.STATE_OPEN:
            return
        payload = text.encode()
        if (
            protocol._perMessageCompress is not None
            or protocol.send_state != protocol.SEND_STATE_GROUND
            or protocol.autoFragmentSize
            or protocol.maskServerFrames
            or protocol.logOctets
            or protocol.logFrames
            or len(protocol.send_queue)
        ):
            protocol.sendMessage(payload, False)
            return
        protocol.transport.write(_text_frame_header(len(payload)) + payload)

    def unsent_bytes(self) -> int:
        """Bytes Twisted holds for this socket that the kernel has not taken yet."""
        transport = self.protocol.transport
        written = len(getattr(transport, "dataBuffer", b"")) - getattr(transport, "offset", 0)
        return written + getattr(transport, "_tempDataLen", 0)

    def allow_frames(self, size: int) -> None:
        """Let this socket's frames and messages be up to `size` bytes; past it autobahn closes
        with 1009 before it buffers more (`core.serve` starts every socket at its smaller
        limit for sockets that have not authenticated)."""
        self.protocol.maxFramePayloadSize = size
        self.protocol.maxMessagePayloadSize = size

    def abort(self) -> None:
        """Drop the connection now, without a close frame and whatever is unsent."""
        self.protocol.transport.abortConnection()

    def release_handshake(self) -> None:
        """Let go of the upgrade request once the application has read it: autobahn keeps the
        request as it arrived (`http_request_data`), its headers parsed twice (`http_headers`,
        `request.headers`), its query (`request.params`, `http_request_params`) and its own
        response, and daphne its header list (the scope's `headers`, the same list); about
        3 KB for the socket's life. Only autobahn's handshake reads them; daphne's log lines
        still read `request.path`."""
        protocol = self.protocol
        for name in _HANDSHAKE_STRINGS:
            setattr(protocol, name, "")
        protocol.http_request_data = b""
        protocol.http_headers = {}
        protocol.http_request_params = {}
        request = getattr(protocol, "request", None)
        if request is not None:
            request.headers = {}
            request.params = {}
        headers = getattr(protocol, "clean_headers", None)
        if isinstance(headers, list):
            headers.clear()


class DirectWebsocketConsumer(AsyncWebsocketConsumer):
    """A Channels consumer that dispatches each message straight to its handler.

    Channels' own dispatch first hops to the database thread to close old connections, for every
    frame; a subclass whose DB work checks its connections itself (core.db_thread) skips it.
    """

    async def __call__(self, scope, receive, send):
        """Channels' `AsyncConsumer.__call__` for a consumer with no channel layer: each
        message is received and dispatched in turn. Channels' own runs every `receive()` as a
        task under `asyncio.wait` (to listen to a channel layer at the same time), about 1 KB
        of tasks, futures and coroutines held by every quiet socket."""
        if get_channel_layer(self.channel_layer_alias) is not None:
            return await super().__call__(scope, receive, send)
        self.scope = scope
        self.channel_layer = None
        self.base_send = send
        try:
            while True:
                await self.dispatch(await receive())
        except StopConsumer:
            pass

    async def dispatch(self, message):
        handler = getattr(self, message["type"].replace(".", "_"), None)
        if handler is None:
            raise ValueError(f"no handler for {message['type']}")
        await handler(message)

    @property
    def asgi_send(self) -> Callable:
        """The server's ASGI `send` for this connection."""
        return self.base_send


# --- the JSON APIs ----------------------------------------------------------------------------


class NinjaAPIBase(NinjaAPI):
    """A NinjaAPI whose one exception handler is `error_response` (for `Exception`, so every
    error), and whose URL patterns pass through `url_patterns`."""

    def set_default_exception_handlers(self) -> None:
        self.add_exception_handler(Exception, self.error_response)

    def error_response(self, request, exc: Exception):
        """The answer to any exception raised while serving a request. Subclasses."""
        raise NotImplementedError

    def url_patterns(self, patterns: list) -> list:
        """The URL patterns served, from ninja's own. Subclasses."""
        return patterns

    def _get_urls(self) -> list:
        return self.url_patterns(super()._get_urls())


def raised_by_parser(exc: Exception) -> BaseException | None:
    """What the API's parser raised, if `exc` is ninja's `HttpError` around it."""
    return exc.__cause__ if isinstance(exc, HttpError) else None
