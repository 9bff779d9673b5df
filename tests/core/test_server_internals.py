"""The internals of daphne, Twisted, autobahn, Channels and django-ninja that
core/server_internals.py relies on still have the shape it relies on, and the installed versions
are the ones pyproject.toml pins. A failure here after an upgrade names the internal that moved:
adapt core/server_internals.py (and its docstring's versions), then the pin."""

import asyncio
import inspect
import pprint
import re
import tomllib
from functools import partial
from importlib.metadata import version
from pathlib import Path
from types import SimpleNamespace

import autobahn.util
import autobahn.websocket.protocol
import daphne.cli
import daphne.ws_protocol
import pytest
from channels.consumer import AsyncConsumer, get_handler_name
from channels.exceptions import StopConsumer
from daphne.cli import CommandLineInterface
from daphne.endpoints import build_endpoint_description_strings
from daphne.http_protocol import HTTPFactory
from daphne.server import Server
from daphne.ws_protocol import WebSocketProtocol
from django.test import RequestFactory
from ninja import NinjaAPI
from ninja.errors import HttpError
from ninja.params.models import BodyModel
from twisted.internet import abstract, tcp
from twisted.internet.testing import StringTransport
from twisted.web import http

from core.server_internals import (
    DaphneServer,
    DaphneSocket,
    DeadlineHTTPChannel,
    DirectWebsocketConsumer,
    NinjaAPIBase,
    ReceiveQueue,
    listen_with_backlog,
    message_limit_for_incoming_only,
    plain_autobahn_debug_strings,
    raised_by_parser,
)

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"
PINNED = ("channels", "daphne", "twisted", "autobahn", "django-ninja")


def parameters(function) -> set[str]:
    return set(inspect.signature(function).parameters)


def globals_used(function) -> set[str]:
    """The global (and attribute) names a function's code looks up when it runs."""
    return set(function.__code__.co_names)


def pins() -> dict[str, str]:
    dependencies = tomllib.loads(PYPROJECT.read_text())["project"]["dependencies"]
    pinned = {}
    for requirement in dependencies:
        name, separator, pinned_version = requirement.partition("==")
        if separator:
            pinned[name.split("[")[0].strip().lower()] = pinned_version.strip()
    return pinned


@pytest.mark.parametrize("package", PINNED)
def test_the_package_is_pinned_exactly_at_its_installed_version(package):
    assert pins().get(package) == version(package)


# --- daphne's server ---------------------------------------------------------------------------


async def asgi_app(scope, receive, send):
    pass


def test_daphne_server_takes_signal_handlers_and_endpoints():
    assert {"signal_handlers", "endpoints"} <= parameters(Server.__init__)
    server = DaphneServer(application=asgi_app, endpoints=["tcp:port=0"])
    assert server.signal_handlers is False
    assert server.ports == []


def test_daphne_runs_the_reactor_after_assigning_its_http_factory_and_listening():
    assert {"http_factory", "listen_success", "signal_handlers"} <= globals_used(Server.run)
    assert parameters(Server.listen_success) == {"self", "port"}
    assert callable(Server.stop)


def test_daphnes_http_factory_builds_the_channel_the_server_chooses():
    class Chosen(http.HTTPChannel):
        pass

    class ChoosingServer(DaphneServer):
        def http_channel(self):
            return Chosen()

    server = ChoosingServer(application=asgi_app, endpoints=["tcp:port=0"])
    server.http_factory = HTTPFactory(server)  # what Server.run does
    protocol = server.http_factory.buildProtocol(None)
    assert isinstance(protocol, http._GenericHTTPChannelProtocol)
    assert isinstance(protocol._channel, Chosen)


async def test_daphnes_send_is_a_partial_of_handle_reply_on_the_protocol():
    sends = []

    async def remember_send(scope, receive, send):
        sends.append(send)

    server = Server(application=remember_send, endpoints=["tcp:port=0"])
    protocol = WebSocketProtocol()
    server.connections = {protocol: {}}  # what Server.run and protocol_connected set up
    server.create_application(protocol, {"type": "websocket"})
    await server.connections[protocol]["application_instance"]
    (send,) = sends
    assert isinstance(send, partial)
    assert send.func == server.handle_reply
    assert DaphneSocket.behind(send).protocol is protocol
    assert DaphneSocket.behind(asgi_app) is None


def test_daphnes_create_application_is_the_one_the_server_replaces():
    # DaphneServer.create_application is daphne's own with another queue: if daphne's changes
    # shape (more than the queue it makes), the copy must follow.
    used = globals_used(Server.create_application)
    assert {"Queue", "application", "connections", "handle_reply", "ensure_future"} <= used
    assert parameters(Server.create_application) == {"self", "protocol", "scope"}


async def test_the_server_runs_each_application_on_a_receive_queue():
    received = []

    async def echo(scope, receive, send):
        received.append(await receive())
        await send({"type": "websocket.accept"})

    server = DaphneServer(application=echo, endpoints=["tcp:port=0"])
    protocol = WebSocketProtocol()
    protocol.handle_reply = lambda message: received.append(("sent", message))
    server.connections = {protocol: {}}
    queue = server.create_application(protocol, {"type": "websocket"})
    assert isinstance(queue, ReceiveQueue)
    queue.put_nowait({"type": "websocket.connect"})
    await server.connections[protocol]["application_instance"]
    assert received == [{"type": "websocket.connect"}, ("sent", {"type": "websocket.accept"})]


async def test_the_receive_queue_hands_over_items_in_order_whoever_comes_first():
    queue = ReceiveQueue()
    queue.put_nowait(1)
    queue.put_nowait(2)
    assert [await queue.get(), await queue.get()] == [1, 2]
    waiting = asyncio.ensure_future(queue.get())
    await asyncio.sleep(0)
    queue.put_nowait(3)
    queue.put_nowait(4)
    assert await waiting == 3
    assert await queue.get() == 4
    assert queue  # daphne tests `if self.application_queue:`


async def test_the_receive_queue_keeps_what_a_cancelled_get_was_given():
    queue = ReceiveQueue()
    abandoned = asyncio.ensure_future(queue.get())
    await asyncio.sleep(0)
    abandoned.cancel()  # cancelled while waiting: it takes nothing
    await asyncio.gather(abandoned, return_exceptions=True)
    given = asyncio.ensure_future(queue.get())
    await asyncio.sleep(0)
    queue.put_nowait("a")  # handed to `given` ...
    given.cancel()  # ... which is cancelled before it returns it
    assert (await asyncio.gather(given, return_exceptions=True))[0].__class__.__name__ == (
        "CancelledError"
    )
    queue.put_nowait("b")
    taken = [await asyncio.wait_for(queue.get(), 1) for _ in range(2)]
    assert taken == ["a", "b"]


def test_twisteds_http_channel_registers_itself_as_its_transports_producer():
    # What the upgraded protocol lets go of (_IncomingLimitProtocol.connectionMade).
    assert "registerProducer" in globals_used(http.HTTPChannel.connectionMade)
    channel = http.HTTPChannel()
    transport = StringTransport()
    channel.makeConnection(transport)
    assert transport.producer is channel
    message_limit_for_incoming_only()
    factory = daphne.ws_protocol.WebSocketFactory(server_class=None)
    factory.setProtocolOptions(openHandshakeTimeout=0, autoPingInterval=0)  # no timers
    protocol = factory.buildProtocol(None)
    protocol.makeConnection(transport)
    assert transport.producer is None
    # autobahn's queue of chopped sends, made when first used (_SendQueue)
    assert len(protocol.send_queue) == 0
    protocol.send_queue.append((b"x", True))
    assert (len(protocol.send_queue), protocol.send_queue.popleft()) == (1, (b"x", True))


def test_autobahn_uses_its_send_queue_only_as_a_queue():
    source = inspect.getsource(autobahn.websocket.protocol.WebSocketProtocol)
    uses = set(re.findall(r"self\.send_queue(\.\w+|\)| =)", source))
    assert uses == {".append", ".popleft", ")", " ="}  # ")": len(self.send_queue)


def test_only_autobahns_handshake_reads_what_a_socket_releases_after_it():
    # DaphneSocket.release_handshake empties these once the application has connected.
    released = {"http_request_data", "http_headers", "http_request_params", "http_status_line"}
    released |= {"http_request_uri", "http_response_data", "_wskey", "clean_headers"}
    handshake = {"processHandshake", "succeedHandshake", "onConnect", "_connectionMade"}
    for cls in (autobahn.websocket.protocol.WebSocketServerProtocol, WebSocketProtocol):
        for name, function in inspect.getmembers(cls, inspect.isfunction):
            if name not in handshake and function.__qualname__.startswith(cls.__name__):
                assert not released & globals_used(function), name


def test_daphnes_command_line_runs_its_server_class_on_the_endpoints_it_builds():
    assert hasattr(CommandLineInterface, "server_class")
    assert parameters(CommandLineInterface.run) == {"self", "args"}
    assert inspect.ismethod(CommandLineInterface.entrypoint)
    used = globals_used(CommandLineInterface.run)
    assert {"server_class", "build_endpoint_description_strings"} <= used
    assert hasattr(daphne.cli, "build_endpoint_description_strings")


def test_the_listen_backlog_is_added_to_daphnes_tcp_and_unix_endpoints(monkeypatch):
    assert parameters(build_endpoint_description_strings) == {
        "host",
        "port",
        "unix_socket",
        "file_descriptor",
    }
    monkeypatch.setattr(
        daphne.cli, "build_endpoint_description_strings", build_endpoint_description_strings
    )
    listen_with_backlog(2048)
    endpoints = daphne.cli.build_endpoint_description_strings(
        host="127.0.0.1", port=8000, unix_socket="/tmp/parley.sock", file_descriptor=3
    )
    assert endpoints == [
        "tcp:port=8000:interface=127.0.0.1:backlog=2048",
        "unix:/tmp/parley.sock:backlog=2048",
        "fd:fileno=3",
    ]


# --- Twisted's HTTP connection and write buffer ------------------------------------------------


def test_twisted_wraps_an_http_channel_in_its_generic_protocol():
    channel = http.HTTPChannel()
    assert http._GenericHTTPChannelProtocol(channel)._channel is channel


def test_twisted_flags_the_request_being_handled_once_it_arrived_whole():
    arrived = []

    class Spy(http.HTTPChannel):
        def allContentReceived(self):
            arrived.append(self._handlingRequest)
            super().allContentReceived()

    channel = Spy()
    assert channel._handlingRequest is False
    channel.makeConnection(StringTransport())
    channel.dataReceived(b"GET / HTTP/1.1\r\nHost: local")
    assert arrived == []
    channel.dataReceived(b"host\r\n\r\n")
    assert arrived == [False]
    assert channel._handlingRequest is True
    channel.connectionLost(None)


def test_the_deadline_channel_overrides_hooks_twisted_still_has():
    for hook in ("connectionMade", "dataReceived", "allContentReceived", "connectionLost"):
        assert hook in vars(http.HTTPChannel), hook
        assert hook in vars(DeadlineHTTPChannel), hook
    assert parameters(DeadlineHTTPChannel) == {"request_timeout"}
    assert callable(tcp.Server.abortConnection)


def test_unsent_bytes_are_twisted_write_buffer():
    class SlowKernel(abstract.FileDescriptor):
        def writeSomeData(self, data):
            return 4  # the kernel takes 4 bytes at a time

    reactor = SimpleNamespace(addWriter=lambda _: None, removeWriter=lambda _: None)
    transport = SlowKernel(reactor=reactor)
    transport.connected = 1
    socket = DaphneSocket(SimpleNamespace(transport=transport))
    transport.write(b"0123456789")
    assert socket.unsent_bytes() == 10  # queued in _tempDataBuffer, counted by _tempDataLen
    transport.doWrite()
    assert socket.unsent_bytes() == 6  # moved to dataBuffer, 4 written (offset)
    transport.write(b"abc")
    assert socket.unsent_bytes() == 9
    assert issubclass(tcp.Server, abstract.FileDescriptor)  # a daphne socket's transport


# --- autobahn ----------------------------------------------------------------------------------


def open_protocol(**options):
    """daphne's WebSocket protocol, open, writing to a StringTransport."""
    message_limit_for_incoming_only()
    factory = daphne.ws_protocol.WebSocketFactory(server_class=None)
    factory.setProtocolOptions(openHandshakeTimeout=0, autoPingInterval=0, **options)
    protocol = factory.buildProtocol(None)
    transport = StringTransport()
    protocol.makeConnection(transport)
    protocol.state = WebSocketProtocol.STATE_OPEN
    return protocol, transport


@pytest.mark.parametrize("length", [0, 5, 125, 126, 127, 65535, 65536, 70000])
def test_a_text_message_is_sent_as_the_very_bytes_autobahn_sends(length):
    # DaphneSocket.send_text writes the frame itself (what daphne's `serverSend` has autobahn
    # do for `websocket.send`): byte for byte the same.
    assert {"sendMessage", "encode"} <= globals_used(WebSocketProtocol.serverSend)
    text = ("é" * length)[: max(0, length - length // 2)] + "x" * (length // 2)
    by_autobahn, sent_by_autobahn = open_protocol()
    by_autobahn.sendMessage(text.encode(), False)
    directly, sent_directly = open_protocol()
    DaphneSocket(directly).send_text(text)
    assert sent_directly.value() == sent_by_autobahn.value()
    assert sent_directly.value()[0] == 0x81  # final, text, unmasked


def test_a_message_autobahn_would_fragment_or_compress_is_left_to_autobahn():
    protocol, transport = open_protocol(autoFragmentSize=4)
    DaphneSocket(protocol).send_text("fragmented")
    assert transport.value()[0] == 0x01  # a first fragment, not final: autobahn sent it
    protocol.state = WebSocketProtocol.STATE_CLOSING
    DaphneSocket(protocol).send_text("too late")  # nothing more to a closing socket
    assert b"too late" not in transport.value()


def test_autobahn_sends_a_close_frame_with_a_code_and_isreply():
    assert {"code", "isReply"} <= parameters(WebSocketProtocol.sendCloseFrame)


def test_autobahn_reads_the_debug_string_globals_switched_off(monkeypatch):
    assert hasattr(autobahn.util, "_HAS_CLICK")
    assert "_HAS_CLICK" in globals_used(autobahn.util.hl)
    assert hasattr(autobahn.websocket.protocol, "pformat")
    connection_made = autobahn.websocket.protocol.WebSocketProtocol._connectionMade
    assert "pformat" in globals_used(connection_made)
    monkeypatch.setattr(autobahn.util, "_HAS_CLICK", True)
    monkeypatch.setattr(autobahn.websocket.protocol, "pformat", pprint.pformat)
    plain_autobahn_debug_strings()
    assert autobahn.util.hl("plain") == "plain"
    settings = [("autoPingTimeout", 30, "WebSocketServerFactory")]
    assert f"{autobahn.websocket.protocol.pformat(settings)}" == pprint.pformat(settings)


def test_autobahn_limits_sent_messages_by_the_limit_lifted_while_sending(monkeypatch):
    import daphne.ws_protocol

    from core.server_internals import message_limit_for_incoming_only

    send_message = autobahn.websocket.protocol.WebSocketProtocol.sendMessage
    assert "maxMessagePayloadSize" in send_message.__code__.co_names
    monkeypatch.setattr(
        daphne.ws_protocol.WebSocketFactory, "protocol", daphne.ws_protocol.WebSocketProtocol
    )
    message_limit_for_incoming_only()
    protocol_class = daphne.ws_protocol.WebSocketFactory.protocol
    assert issubclass(protocol_class, daphne.ws_protocol.WebSocketProtocol)
    seen = []
    monkeypatch.setattr(
        daphne.ws_protocol.WebSocketProtocol,
        "sendMessage",
        lambda self, payload, binary=False: seen.append(self.maxMessagePayloadSize),
    )
    protocol = protocol_class.__new__(protocol_class)
    protocol.maxMessagePayloadSize = 4096
    protocol.sendMessage(b"x" * 10_000)
    assert seen == [0]
    assert protocol.maxMessagePayloadSize == 4096


# --- Channels ----------------------------------------------------------------------------------


def test_channels_dispatches_every_message_and_keeps_the_servers_send():
    assert {"base_send", "dispatch"} <= globals_used(AsyncConsumer.__call__)
    assert parameters(AsyncConsumer.dispatch) == {"self", "message"}
    assert get_handler_name({"type": "websocket.receive"}) == "websocket_receive"


async def test_the_direct_consumer_dispatches_to_handlers_and_sends_through_asgi():
    class Greeter(DirectWebsocketConsumer):
        channel_layer_alias = "parley.test.no-channel-layer"

        async def websocket_connect(self, message):
            await self.asgi_send({"type": "websocket.accept"})

        async def websocket_disconnect(self, message):
            # Channels' own handler tidies the database connections of asgiref's thread, which
            # this test of the dispatch has no business touching (and pytest-django forbids).
            raise StopConsumer

    incoming = [{"type": "websocket.connect"}, {"type": "websocket.disconnect", "code": 1000}]
    sent = []

    async def receive():
        return incoming.pop(0)

    async def send(message):
        sent.append(message)

    await Greeter.as_asgi()({"type": "websocket"}, receive, send)
    assert sent == [{"type": "websocket.accept"}]


# --- django-ninja ------------------------------------------------------------------------------


class Answering(NinjaAPIBase):
    def error_response(self, request, exc):
        return ("answered", exc)

    def url_patterns(self, patterns):
        return [*patterns, "extra"]


def test_ninja_calls_the_default_exception_handlers_hook_at_init():
    assert "set_default_exception_handlers" in globals_used(NinjaAPI.__init__)
    assert parameters(NinjaAPI.set_default_exception_handlers) == {"self"}
    api = Answering(urls_namespace="test-server-internals-errors")
    error = KeyError("x")
    assert api.on_exception(None, error) == ("answered", error)


def test_ninja_serves_the_url_patterns_of_its_private_get_urls():
    assert "_get_urls" in globals_used(NinjaAPI.urls.fget)
    assert parameters(NinjaAPI._get_urls) == {"self"}
    api = Answering(urls_namespace="test-server-internals-urls")
    patterns, _app_name, _namespace = api.urls
    assert patterns[-1] == "extra"


def test_ninja_chains_what_the_parser_raised_to_its_http_error():
    raised = ValueError("not JSON")

    def parse_body(request):
        raise raised

    api = SimpleNamespace(parser=SimpleNamespace(parse_body=parse_body))
    request = RequestFactory().post("/", data=b"{", content_type="application/json")
    with pytest.raises(HttpError) as wrapped:
        BodyModel.get_request_data(request, api, {})
    assert raised_by_parser(wrapped.value) is raised
    assert raised_by_parser(raised) is None
