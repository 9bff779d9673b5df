"""What the chat and agent sockets share: frame parsing, dispatch through a table, typed errors,
rate limits, the idle watchdog, group membership and delivery of fanned-out frames.

A consumer stays thin: it validates a frame against its model in `widget.frames`, calls one
service or selector (one sync unit of DB work in the tenant's schema) and answers.
"""

import asyncio
import logging
import uuid
from dataclasses import dataclass

import orjson
import structlog
from channels.exceptions import StopConsumer
from django.conf import settings
from pydantic import ValidationError

from core import metrics
from core.errors import BadRequest, ParleyError, RateLimited, UnknownType
from core.ratelimit import SharedBucket, TokenBucket, retry_after_seconds
from core.server_internals import DaphneSocket, DirectWebsocketConsumer
from core.text import refuse_unstorable
from widget import frames
from widget.fanout.hub import hub
from widget.fanout.transport import FanoutUnavailable
from widget.handshake import NO_CHANNEL_LAYER

log = logging.getLogger(__name__)

SERVER_ONLY_CODES = (1001, 1011, 1012, 1013)
# The largest WebSocket frame (or message) autobahn takes from an authenticated socket: past the
# contract's 16 KiB the frame is refused with 4400 once read; past this it is not even buffered
# (1009). Until `auth`, core.serve's smaller limit applies (PARLEY_WS_UNAUTHENTICATED_FRAME_BYTES).
AUTHENTICATED_FRAME_BYTES = 4 * frames.MAX_FRAME_BYTES


class SocketGone(Exception):
    """The socket was closed and cleaned up while a frame's work awaited: stop that work."""


class SocketClose(Exception):
    """End the connection with a close code of the contract."""

    def __init__(self, code: int, reason: str = ""):
        self.code = code
        self.reason = reason
        super().__init__(f"{code} {reason}".strip())


@dataclass(frozen=True)
class SocketLimits:
    """The socket settings (PARLEY_WS in settings), read when a socket connects."""

    auth_timeout: float
    idle_timeout: float
    key_recheck: float
    access_recheck: float
    frame_rate: float
    frame_burst: float
    visitor_frame_rate: float
    visitor_frame_burst: float
    abuse_rate: float
    abuse_burst: float
    visitor_connections: int
    ready_messages: int
    resume_limit: int
    resume_overlap: float
    send_buffer_limit: int
    address_sockets: int
    address_unauthenticated: int

    @classmethod
    def current(cls) -> "SocketLimits":
        return cls(**{name.lower(): value for name, value in settings.PARLEY_WS.items()})


def _client_id_of(payload: dict) -> str | None:
    client_id = payload.get("client_id")
    return client_id if isinstance(client_id, str) and 0 < len(client_id) <= 64 else None


def _validation_message(error: ValidationError) -> str:
    first = error.errors(include_url=False)[0]
    where = ".".join(str(part) for part in first["loc"]) or "frame"
    return f"{where}: {first['msg']}"[:200]


class SocketConsumer(DirectWebsocketConsumer):
    # A quiet socket holds little else than its consumer: its state in slots, not in a dict
    # (about 1 KB less a socket, docs/PERFORMANCE.md). Channels' own attributes stay in it.
    __slots__ = (
        "abuse_bucket", "backlog", "cleaned_up", "closing", "connected_at", "daphne",
        "frame_bucket", "joined", "last_frame_at", "limits", "loop", "member_id", "sent_in_ready",
        "shared", "watch_at", "watch_timer", "watchdog",
    )  # fmt: skip
    channel_layer_alias = NO_CHANNEL_LAYER
    kind = "socket"  # the `kind` label of the metrics: chat or agent
    # frame type -> (its model in widget.frames, the handler method's name)
    frame_types: dict[str, tuple[type[frames.ClientFrame], str]] = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls.frames_in = metrics.Children(metrics.FRAMES_IN, cls.kind)
        cls.frames_out = metrics.Children(metrics.FRAMES_OUT, cls.kind)

    # --- lifecycle --------------------------------------------------------------------------

    async def websocket_connect(self, message):
        self.member_id = uuid.uuid4().hex
        metrics.OPEN_SOCKETS.opened(str(self.scope["tenant"].id), self.kind)
        self.limits = SocketLimits.current()
        self.loop = asyncio.get_running_loop()
        self.connected_at = self.last_frame_at = self.loop.time()
        self.closing = False
        self.cleaned_up = False
        self.joined: list[str] = []
        self.backlog: list[tuple[str, int, str]] | None = None
        # Ids of the messages sent in `ready`: a live copy of one of them is not sent again.
        self.sent_in_ready: frozenset[int] = frozenset()
        self.frame_bucket = TokenBucket(rate=self.limits.frame_rate, burst=self.limits.frame_burst)
        self.abuse_bucket = TokenBucket(rate=self.limits.abuse_rate, burst=self.limits.abuse_burst)
        self.shared: SharedBucket | None = None
        # The watchdog is a timer while it waits, and a task only while `watch` runs.
        self.watch_timer: asyncio.TimerHandle | asyncio.Handle | None = None
        self.watchdog: asyncio.Task | None = None
        self.daphne = DaphneSocket.behind(self.asgi_send)
        await self.accept()
        structlog.contextvars.bind_contextvars(
            tenant_id=self.scope["tenant"].id, connection_id=self.member_id
        )
        try:
            await self.on_connect()
        except SocketGone:
            return
        except SocketClose as close:
            await self.close_with(close.code)
            return
        if self.daphne is not None:
            # What the handshake was checked against is not looked at again.
            self.daphne.release_handshake()
        self.rearm_watchdog()

    def rearm_watchdog(self) -> None:
        """(Re)start the watchdog: after a change of the deadlines it enforces."""
        self._stop_watchdog()
        self.watch_at = float("-inf")  # it looks at once
        self.watch_timer = self.loop.call_soon(self._watch_due)

    def _stop_watchdog(self) -> None:
        if self.watch_timer is not None:
            self.watch_timer.cancel()
            self.watch_timer = None
        if self.watchdog is not None and self.watchdog is not asyncio.current_task():
            self.watchdog.cancel()
        self.watchdog = None

    def _watch_due(self) -> None:
        self.watch_timer = None
        if not self.closing:
            self.watchdog = self.loop.create_task(self._watch())

    def watch_by(self, moment: float | None) -> None:
        """A deadline appeared: restart the watchdog if it would look later than `moment`."""
        if moment is not None and moment < self.watch_at:
            self.rearm_watchdog()

    async def websocket_disconnect(self, message):
        await self.cleanup()
        raise StopConsumer()

    async def on_connect(self) -> None:
        """After accept: join groups, greet. Subclasses."""

    async def on_cleanup(self) -> None:
        """After the socket is gone or closing. Subclasses."""

    async def cleanup(self) -> None:
        if getattr(self, "cleaned_up", True):
            return
        self.cleaned_up = True
        metrics.OPEN_SOCKETS.closed(str(self.scope["tenant"].id), self.kind)
        self._stop_watchdog()
        for group in self.joined:
            await hub.leave(group, self)
        self.joined = []
        await self.on_cleanup()

    async def close(self, code=None, reason=None):
        """Close with any code of the contract, daphne included.

        Under daphne, autobahn refuses to send 1001, 1011, 1012 and 1013 through ASGI's
        `websocket.close`: those go through daphne's protocol, as daphne itself sends 1011.
        """
        if code in SERVER_ONLY_CODES and self.daphne is not None:
            self.daphne.send_close(code)
            return
        await super().close(code=code, reason=reason)

    async def close_with(self, code: int) -> None:
        if self.closing:
            return
        self.closing = True
        await self.close(code)
        await self.cleanup()

    def allow_authenticated_frames(self) -> None:
        if self.daphne is not None:
            self.daphne.allow_frames(AUTHENTICATED_FRAME_BYTES)

    async def join(self, group: str) -> None:
        """Become a member of `group` until cleanup. A socket closed while it joins (the auth
        watchdog fires while the subscription comes back) is left out again: its cleanup has
        already run, and no later one would remove it."""
        if self.cleaned_up:
            raise SocketGone()
        self.joined.append(group)
        await hub.join(group, self)
        if self.cleaned_up:
            await hub.leave(group, self)
            raise SocketGone()

    # --- frames in --------------------------------------------------------------------------

    async def websocket_receive(self, message):
        if self.closing:
            return
        self.last_frame_at = self.loop.time()
        text = message.get("text")
        try:
            if text is None:
                raise SocketClose(4400, "frames are JSON text")
            # A character takes at most 4 bytes: only long frames need encoding to be measured.
            if len(text) * 4 > frames.MAX_FRAME_BYTES and (
                len(text.encode()) > frames.MAX_FRAME_BYTES
            ):
                raise SocketClose(4400, "frame over 16 KiB")
            try:
                payload = orjson.loads(text)
            except orjson.JSONDecodeError:
                raise SocketClose(4400, "not JSON") from None
            if not isinstance(payload, dict):
                raise SocketClose(4400, "a frame is a JSON object")
            try:
                refuse_unstorable(text, payload)
                await self.handle_frame(payload)
            except ParleyError as error:
                await self.send_frame(
                    frames.error(
                        code=error.code,
                        message=error.message,
                        retry_after=error.retry_after,
                        client_id=_client_id_of(payload),
                    )
                )
        except SocketGone:
            pass
        except SocketClose as close:
            log.info("closing socket %s: %s", self.member_id, close)
            await self.close_with(close.code)
        except FanoutUnavailable:
            # Redis is away (the fan-out logged it once): the client retries with backoff.
            log.warning("closing socket %s: no Redis subscription to join", self.member_id)
            await self.close_with(1011)
        except Exception as error:
            if backend := metrics.backend_error(error):
                # An outage, reported by the backend's own alerts: one line, not a traceback
                # per socket (rendering those would stall the event loop when it matters most).
                log.warning("closing socket %s: %s unavailable: %s", self.member_id, backend, error)
            else:
                log.exception("socket frame failed")
            await self.close_with(1011)

    async def handle_frame(self, payload: dict) -> None:
        self.check_rate()
        frame_type = payload.get("type")
        if not isinstance(frame_type, str):
            raise BadRequest("A frame needs a string `type`.")
        entry = self.frame_types.get(frame_type)
        if entry is None:
            self.frames_in["unknown"].inc()
            raise UnknownType(f"Unknown frame type {frame_type[:40]!r}.")
        model, method = entry
        self.frames_in[frame_type].inc()
        try:
            frame = model.model_validate(payload)
        except ValidationError as error:
            raise BadRequest(_validation_message(error)) from None
        await getattr(self, method)(frame)

    def check_rate(self) -> None:
        """Take a token for this frame; refuse it with `rate_limited`, or close 4429 when the
        client keeps flooding after being told."""
        now = self.loop.time()
        wait = self.frame_bucket.take(now)
        if not wait and self.shared is not None:
            wait = self.shared.bucket.take(now)
        if not wait:
            return
        if self.abuse_bucket.take(now):
            raise SocketClose(4429, "too many frames")
        raise RateLimited("Too many frames; slow down.", retry_after=retry_after_seconds(wait))

    async def on_ping(self, frame: frames.PingFrame) -> None:
        await self.send_frame(frames.PONG)

    # --- frames out -------------------------------------------------------------------------

    async def send_frame(self, frame: dict) -> None:
        self.frames_out[frame["type"]].inc()
        text = orjson.dumps(frame).decode()
        if self.daphne is None:
            await self.send(text_data=text)
        else:
            self.daphne.send_text(text)  # an ack for every message: the hot path too

    async def push(self, text: str, message_id: int, frame_type: str) -> None:
        """A fanned-out frame for this socket (widget.fanout.members.Member)."""
        if self.backlog is not None:
            # Joined, but `ready` is not sent yet: keep the order ready -> live frames.
            self.backlog.append((text, message_id, frame_type))
            return
        if message_id and message_id in self.sent_in_ready:
            # Already sent in `ready`. Only those: frames of a room can arrive out of id order
            # (two workers publish), so a lower id than the newest one sent is not a copy.
            return
        self.frames_out[frame_type].inc()
        if self.daphne is None:
            await self.asgi_send({"type": "websocket.send", "text": text})
        else:
            self.daphne.send_text(text)  # every fanned-out frame: the hot path
        if self.daphne is not None and self.daphne.unsent_bytes() > self.limits.send_buffer_limit:
            # The client reads slower than its room talks. Rather than buffer without bound (or
            # drop frames), cut the connection: the client reconnects and resumes with `since`.
            log.warning("dropping a socket too slow to follow its room: %s", self.member_id)
            self.closing = True
            self.daphne.abort()
            await self.cleanup()

    async def flush_backlog(self) -> None:
        backlog, self.backlog = self.backlog or [], None
        for text, message_id, frame_type in backlog:
            await self.push(text, message_id, frame_type)

    async def close_from_server(self, code: int) -> None:
        await self.close_with(code)

    # --- watchdog ---------------------------------------------------------------------------

    async def _watch(self) -> None:
        """One look at the deadlines (`watch`), and the timer for the next one."""
        task = asyncio.current_task()
        try:
            wake_at = await self.watch(self.loop.time())
            if wake_at is None or self.closing or self.watchdog is not task:
                return  # closed, or a rearm started another look meanwhile
            self.watchdog = None
            self.watch_at = wake_at
            self.watch_timer = self.loop.call_at(wake_at, self._watch_due)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            if backend := metrics.backend_error(error):
                # A deadline's re-check could not reach its backend: one line, as for frames.
                log.warning("closing socket %s: %s unavailable: %s", self.member_id, backend, error)
            else:
                log.exception("socket watchdog failed")
            await self.close_with(1011)

    async def watch(self, now: float) -> float | None:
        """Enforce deadlines; return when to look again (None once closed)."""
        idle_at = self.last_frame_at + self.limits.idle_timeout
        if now >= idle_at:
            await self.close_with(4408)
            return None
        return idle_at
