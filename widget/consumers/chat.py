"""`ws/chat/<room>/`: a visitor's socket (PROTOCOL.md, Chat socket).

The handshake (widget.handshake) has already checked the site key and the Origin and put the site
in the scope. Here: `auth` first (token of this site, allowed in this room), then `ready`, then the
room's frames. The socket also watches its site key: revoked or its site deleted (a close order
from `events.close_site_sockets`) or past its rotation grace (checked every
`KEY_RECHECK` seconds, and at the expiry itself) closes it with 4403.
"""

from django.utils import timezone
from pydantic import ValidationError

from core.db_thread import in_tenant
from core.errors import (
    BadRequest,
    InvalidToken,
    ParleyError,
    PlanLimit,
    RateLimited,
    TenantSuspended,
    UnknownSiteKey,
)
from core.ratelimit import (
    OpenCounts,
    SharedBuckets,
    TokenBucket,
    client_address,
    retry_after_seconds,
)
from tenants.billing import limits
from tenants.site_directory import SiteInfo, asite_for_key
from tenants.status import aensure_active
from tenants.tokens import token_verify
from widget import availability, events, frames, hot_sql, selectors
from widget.budgets import VisitorMessage
from widget.consumers.base import SocketClose, SocketConsumer, SocketGone
from widget.mail.transcripts import transcript_request
from widget.services.attachments import frames_attachments
from widget.services.conversations import conversation_mark_read
from widget.services.messages import MessagePost
from widget.services.rooms import chat_join
from widget.services.visitors import visitor_page_update
from widget.visitor_context import PageContext
from widget.writer import writer

# `context` frames a socket may send: a burst of 10, then one every 2 s (PROTOCOL.md).
CONTEXT_RATE = 0.5
CONTEXT_BURST = 10
# The frame buckets that all sockets of one visitor in this process share (several tabs count
# together), by (tenant id, visitor id).
visitors = SharedBuckets()
# The chat sockets of each client address in this process, and those of them not authenticated
# yet: one address may not hold all of a worker's sockets, or its memory in half-sent frames.
address_sockets = OpenCounts()
address_unauthenticated = OpenCounts()


def _open_room(
    *,
    site: SiteInfo,
    site_id: int,
    room: str,
    visitor_id: str,
    token_room: str,
    public_rooms: bool,
    since: int | None,
    ready_messages: int,
    resume_limit: int,
    resume_overlap: float,
):
    """One unit: join the room and read what `ready` carries."""
    conversation, visitor = chat_join(
        site_id=site_id,
        room=room,
        visitor_id=visitor_id,
        token_room=token_room,
        public_rooms=public_rooms,
    )
    if since is None:
        messages, has_more = hot_sql.frames_latest(
            conversation_id=conversation.pk, limit=ready_messages
        )
    else:
        messages, has_more = hot_sql.frames_after(
            conversation_id=conversation.pk,
            after_id=since,
            limit=resume_limit,
            overlap=resume_overlap,
        )
    name = visitor.display_name if visitor else f"Visitor {visitor_id[:6]}"
    return (
        conversation,
        name,
        frames_attachments(messages),
        has_more,
        availability.site_status(site=site),
    )


def _history(*, conversation, before_id: int | None, limit: int):
    messages, has_more = selectors.messages_before(
        conversation=conversation, before_id=before_id, limit=limit
    )
    return frames_attachments([frames.message_of(message) for message in messages]), has_more


class ChatConsumer(SocketConsumer):
    __slots__ = (
        "address", "address_place", "authenticated", "author", "context_bucket", "conversation",
        "counted_address", "counted_unauthenticated", "holds_plan_connection", "key_expires_at",
        "next_key_check", "page_due", "page_waiting", "room", "site", "tenant", "visitor_id",
        "visitor_key",
    )  # fmt: skip
    kind = "chat"
    frame_types = {
        "auth": (frames.AuthFrame, "on_auth_again"),
        "message": (frames.MessageFrame, "on_message"),
        "typing": (frames.TypingFrame, "on_typing"),
        "read": (frames.ReadFrame, "on_read"),
        "history": (frames.HistoryFrame, "on_history"),
        "ping": (frames.PingFrame, "on_ping"),
        "context": (frames.ContextFrame, "on_context"),
        "transcript": (frames.TranscriptFrame, "on_transcript"),
        "status": (frames.StatusFrame, "on_status"),
    }

    async def on_connect(self) -> None:
        self.site = self.scope["site"]
        self.tenant = self.scope["tenant"]
        self.room = self.scope["url_route"]["kwargs"]["room"]
        self.authenticated = False
        self.visitor_key: tuple[int, str] | None = None
        self.holds_plan_connection = False
        self.address_place: str | None = None
        self.next_key_check = self.connected_at + self.limits.key_recheck
        self.key_expires_at = self._loop_time_of(self.site.key_expires_at)
        self.address = client_address(self.scope)
        self.counted_address = self.counted_unauthenticated = False
        if not address_sockets.try_enter(self.address, self.limits.address_sockets):
            raise SocketClose(4429, "too many sockets from this address")
        self.counted_address = True
        if not address_unauthenticated.try_enter(self.address, self.limits.address_unauthenticated):
            raise SocketClose(4429, "too many sockets from this address waiting for auth")
        self.counted_unauthenticated = True

    async def _give_back_address_place(self) -> None:
        if self.address_place is not None:
            key, self.address_place = self.address_place, None
            await limits.aclose_address_place(key)

    def _authenticated_now(self) -> None:
        if self.counted_unauthenticated:
            self.counted_unauthenticated = False
            address_unauthenticated.leave(self.address)

    async def on_cleanup(self) -> None:
        self._authenticated_now()
        if self.counted_address:
            self.counted_address = False
            address_sockets.leave(self.address)
        if self.visitor_key is not None:
            visitors.leave(self.visitor_key)
            self.visitor_key = None
        if self.holds_plan_connection:
            # Every path that ends the socket (client close, server close, error, drain, a slow
            # reader cut off) comes through cleanup once: one close per successful open.
            self.holds_plan_connection = False
            await limits.aclose_connection(self.tenant.id)
            await self._give_back_address_place()

    async def handle_frame(self, payload: dict) -> None:
        if self.authenticated:
            return await super().handle_frame(payload)
        if payload.get("type") != "auth":
            raise SocketClose(4400, "the first frame must be auth")
        self.frames_in["auth"].inc()
        await self.authenticate(payload)

    async def authenticate(self, payload: dict) -> None:
        try:
            frame = frames.AuthFrame.model_validate(payload)
        except ValueError:
            raise SocketClose(4400, "malformed auth frame") from None
        try:
            token = token_verify(frame.token)
        except InvalidToken:
            raise SocketClose(4401, "invalid token") from None
        if token.tenant_id != self.site.tenant_id:
            raise SocketClose(4403, "token of another tenant")
        if token.site_id != self.site.site_id:
            # Same tenant, another site: a new session for this site gives a valid token.
            raise SocketClose(4401, "token of another site")
        visitor_key = (token.tenant_id, token.visitor_id)
        if visitors.connections(visitor_key) >= self.limits.visitor_connections:
            raise SocketClose(4429, "too many sockets for this visitor")
        # Counted from auth: a socket that never authenticates holds no place of the plan.
        try:
            self.address_place = await limits.aopen_address_place(self.tenant.id, self.address)
        except RateLimited as error:
            raise SocketClose(4429, str(error.retry_after)) from None
        if self.cleaned_up:  # closed (auth deadline) while the place was being taken
            await self._give_back_address_place()
            return
        if not await limits.atry_open_connection(self.tenant.id):
            await self._give_back_address_place()
            raise SocketClose(PlanLimit.close_code, "the plan's concurrent visitors are connected")
        if self.cleaned_up:
            await self._give_back_address_place()
            await limits.aclose_connection(self.tenant.id)
            return
        self.holds_plan_connection = True
        self.visitor_key = visitor_key
        self.shared = visitors.enter(
            visitor_key,
            rate=self.limits.visitor_frame_rate,
            burst=self.limits.visitor_frame_burst,
        )
        # Join before reading the room: a message committed after the read is then delivered
        # live (held back until `ready` is sent), and one committed before it is in `ready`.
        self.backlog = []
        await self.join(events.room_group(self.tenant.id, self.site.site_id, self.room))
        await self.join(events.site_group(self.tenant.id, self.site.site_id))
        await self.join(events.visitors_group(self.tenant.id))
        try:
            self.conversation, name, messages, has_more, status = await in_tenant(
                self.tenant.schema_name,
                _open_room,
                site=self.site,
                site_id=self.site.site_id,
                room=self.room,
                visitor_id=token.visitor_id,
                token_room=token.conversation,
                public_rooms=self.site.public_rooms,
                since=frame.since,
                ready_messages=self.limits.ready_messages,
                resume_limit=self.limits.resume_limit,
                resume_overlap=self.limits.resume_overlap,
            )
        except ParleyError as error:
            raise SocketClose(error.close_code, error.code) from None
        if self.cleaned_up:  # closed while the room was read: nothing to greet
            raise SocketGone()
        self.visitor_id = token.visitor_id
        self.author: frames.Author = {"kind": "visitor", "id": token.visitor_id, "name": name}
        self.authenticated = True
        self._authenticated_now()
        self.allow_authenticated_frames()
        # Deadlines of an authenticated socket: the key's re-check and expiry (idle was watched).
        self.watch_by(min(self.next_key_check, self.key_expires_at or self.next_key_check))
        self.sent_in_ready = frozenset(message["id"] for message in messages)
        self.context_bucket = TokenBucket(rate=CONTEXT_RATE, burst=CONTEXT_BURST)
        self.page_waiting: PageContext | None = None  # past the budget (on_context)
        self.page_due = 0.0
        await self.send_frame(
            frames.ready(
                room=self.room,
                visitor_id=token.visitor_id,
                messages=messages,
                has_more=has_more,
                visitor_read_up_to=self.conversation.visitor_read_up_to,
                agent_read_up_to=self.conversation.agent_read_up_to,
                status="closed" if self.conversation.status == "closed" else "open",
                availability=status,
            )
        )
        await self.flush_backlog()

    async def on_auth_again(self, frame: frames.AuthFrame) -> None:
        raise BadRequest("This socket is already authenticated.")

    async def on_message(self, frame: frames.MessageFrame) -> None:
        text = frame.stored_text()
        budget = VisitorMessage(
            tenant_id=self.tenant.id,
            visitor_id=self.visitor_id,
            address=self.address,
            plan=await limits.aplan_for(self.tenant.id),
        )
        if wait := budget.take():
            raise RateLimited(
                "Too many messages from here for now; try again later.",
                retry_after=retry_after_seconds(wait),
            )
        post = MessagePost(
            conversation=self.conversation,
            text=text,
            author_kind="visitor",
            author_id=self.visitor_id,
            author_name=self.author["name"],
            client_id=frame.client_id,
            attachment_ids=tuple(frame.attachments),
        )
        try:
            message, created = await writer.post(
                schema_name=self.tenant.schema_name, tenant_id=self.tenant.id, post=post
            )
        except BaseException:
            budget.give_back()
            raise
        if not created:  # a resend of a stored message: counted once
            budget.give_back()
        await self.send_frame(
            frames.ack(
                client_id=frame.client_id, message_id=message.id, created_at=message.created_at
            )
        )

    async def on_typing(self, frame: frames.TypingFrame) -> None:
        # A draft reaches the agents only where the site enables the preview (the widget tells
        # the visitor); elsewhere it is dropped here, and the frame is plain typing.
        site = await asite_for_key(self.site.key) if frame.draft else self.site
        events.publish_typing(
            self.tenant.id,
            self.conversation,
            author=self.author,
            state=frame.state,
            sender=self.member_id,
            draft=frame.preview() if site.typing_preview else "",
        )

    async def on_context(self, frame: frames.ContextFrame) -> None:
        """The visitor navigated. Past the budget the page waits (the newest replacing an older
        one) until the bucket has a token again, and the watchdog stores it then: a page that
        navigates in a loop costs one store per 2 s, and the agents still see where it ended."""
        try:
            page = PageContext(page_url=frame.page_url, page_title=frame.page_title)
        except ValidationError as error:
            raise BadRequest(f"context: {error.errors(include_url=False)[0]['msg']}") from None
        if not events.is_private_room(self.room):
            return  # a public room's agents are not looking at one visitor
        now = self.loop.time()
        wait = self.context_bucket.take(now)
        if wait:
            if self.page_waiting is None:
                self.page_due = now + wait
                self.watch_by(self.page_due)
            self.page_waiting = page
            return
        self.page_waiting = None
        await self.store_page(page)

    async def store_page(self, page: PageContext) -> None:
        await in_tenant(
            self.tenant.schema_name,
            visitor_page_update,
            tenant_id=self.tenant.id,
            conversation=self.conversation,
            visitor_id=self.visitor_id,
            page=page,
        )

    async def store_page_waiting(self, now: float) -> float | None:
        """The watchdog's part: store the page that waited for the budget once it is due (its
        token taken then); returns when to look again, None when nothing waits."""
        if self.page_waiting is None:
            return None
        if now < self.page_due:
            return self.page_due
        wait = self.context_bucket.take(now)
        if wait:
            self.page_due = now + wait
            return self.page_due
        page, self.page_waiting = self.page_waiting, None
        await self.store_page(page)
        return None

    async def on_read(self, frame: frames.ReadFrame) -> None:
        await in_tenant(
            self.tenant.schema_name,
            conversation_mark_read,
            tenant_id=self.tenant.id,
            conversation=self.conversation,
            reader=self.author,
            up_to=frame.up_to,
            sender=self.member_id,
        )

    async def on_transcript(self, frame: frames.TranscriptFrame) -> None:
        email = await in_tenant(
            self.tenant.schema_name,
            transcript_request,
            conversation=self.conversation,
            email=frame.email,
        )
        await self.send_frame(frames.transcript(email=email))

    async def on_status(self, frame: frames.StatusFrame) -> None:
        """The widget asks again at the status's `changes_at` (its hours opened or closed). The
        site is read afresh (its hours may have been edited), from the cache when it can."""
        site = await asite_for_key(self.site.key)
        status = await in_tenant(self.tenant.schema_name, availability.site_status, site=site)
        await self.send_frame(frames.status(status))

    async def on_history(self, frame: frames.HistoryFrame) -> None:
        messages, has_more = await in_tenant(
            self.tenant.schema_name,
            _history,
            conversation=self.conversation,
            before_id=frame.before,
            limit=frame.limit,
        )
        await self.send_frame(frames.history(messages=messages, has_more=has_more))

    # --- watchdog: auth deadline, idle, site key ---------------------------------------------

    def _loop_time_of(self, moment) -> float | None:
        if moment is None:
            return None
        return self.loop.time() + (moment - timezone.now()).total_seconds()

    async def watch(self, now: float) -> float | None:
        if not self.authenticated:
            auth_by = self.connected_at + self.limits.auth_timeout
            if now >= auth_by:
                await self.close_with(4401)
                return None
            idle_at = await super().watch(now)
            return None if idle_at is None else min(auth_by, idle_at)
        if self.key_expires_at is not None and now >= self.key_expires_at:
            await self.close_with(4403)
            return None
        if now >= self.next_key_check:
            try:
                site = await asite_for_key(self.site.key)
                await aensure_active(self.tenant.id)  # its close order may have been missed
            except UnknownSiteKey:
                await self.close_with(4403)
                return None
            except TenantSuspended:
                await self.close_with(TenantSuspended.close_code)
                return None
            self.key_expires_at = self._loop_time_of(site.key_expires_at)
            self.next_key_check = now + self.limits.key_recheck
        idle_at = await super().watch(now)
        if idle_at is None:
            return None
        deadlines = [idle_at, self.next_key_check]
        if self.key_expires_at is not None:
            deadlines.append(self.key_expires_at)
        if (page_due := await self.store_page_waiting(now)) is not None:
            deadlines.append(page_due)
        return min(deadlines)
