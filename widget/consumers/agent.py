"""`ws/agent/`: an agent's dashboard socket (PROTOCOL.md, Agent socket).

The handshake (widget.handshake) has resolved the tenant from the host and the agent from the
session cookie. The socket receives every frame of every conversation of the tenant (each with a
`conversation` field) and `conversation` events; it sends frames naming their conversation.

The socket lives only as long as the access it was admitted with. It joins its member's group,
which is closed with 4410 on every worker when the member signs out, is removed, gets another role
or a new password (`widget.events.close_member_sockets`); and every `PARLEY_WS_ACCESS_RECHECK`
seconds it reads its session again (one unit on the database thread), closing with 4410 when the
session expired or was deleted by any other path. Frames themselves never touch the session.
"""

import logging

from core.db_thread import in_tenant
from core.errors import BadRequest
from widget import availability, events, frames, presence, selectors
from widget.consumers.base import SocketConsumer
from widget.handshake import session_agent
from widget.services.attachments import frames_attachments
from widget.services.conversations import conversation_close, conversation_mark_read
from widget.services.messages import MessagePost
from widget.writer import writer

log = logging.getLogger(__name__)


def _conversation_or_refuse(room: str, site_id: int | None):
    conversation = selectors.conversation_for_agent(room=room, site_id=site_id)
    if conversation is None:
        raise BadRequest("conversation: unknown (or give `site_id` for a shared public room)")
    return conversation


def _mark_read(*, tenant_id: int, room: str, site_id: int | None, **read):
    conversation = _conversation_or_refuse(room, site_id)
    conversation_mark_read(tenant_id=tenant_id, conversation=conversation, **read)


def _history(*, room: str, site_id: int | None, before_id: int | None, limit: int):
    conversation = _conversation_or_refuse(room, site_id)
    messages, has_more = selectors.messages_before(
        conversation=conversation, before_id=before_id, limit=limit, with_private=True
    )
    return (
        frames_attachments(
            [frames.with_avatar(frames.message_of(message)) for message in messages]
        ),
        has_more,
    )


def _close(*, tenant_id: int, room: str, site_id: int | None) -> None:
    conversation = _conversation_or_refuse(room, site_id)
    conversation_close(tenant_id=tenant_id, conversation=conversation)


class AgentConsumer(SocketConsumer):
    __slots__ = ("agent", "author", "conversations", "next_access_check", "present", "tenant")
    kind = "agent"
    frame_types = {
        "message": (frames.AgentMessageFrame, "on_message"),
        "typing": (frames.AgentTypingFrame, "on_typing"),
        "read": (frames.AgentReadFrame, "on_read"),
        "history": (frames.AgentHistoryFrame, "on_history"),
        "close_conversation": (frames.CloseConversationFrame, "on_close_conversation"),
        "ping": (frames.PingFrame, "on_ping"),
    }

    async def on_connect(self) -> None:
        self.tenant = self.scope["tenant"]
        self.agent = agent = self.scope["agent"]
        self.allow_authenticated_frames()  # the handshake has authenticated the session
        self.author: frames.Author = {"kind": "agent", "id": agent.id, "name": agent.name}
        self.conversations: dict[tuple[str, int | None], object] = {}
        # The handshake has just read the session: the first re-read is one interval away.
        self.next_access_check = self.connected_at + self.limits.access_recheck
        await self.join(events.member_group(self.tenant.id, agent.id))
        await self.join(events.agents_group(self.tenant.id))
        first = await presence.agent_connected(self.tenant.id, agent.id)
        self.present = True
        if first:
            await self._announce_presence()
        await self.send_frame(frames.agent_ready(agent=self.author))

    async def on_cleanup(self) -> None:
        if getattr(self, "present", False):
            self.present = False
            if await presence.agent_disconnected(self.tenant.id, self.agent.id):
                await self._announce_presence()

    async def _announce_presence(self) -> None:
        """The member's first socket here opened or their last closed: the visitors are told
        the tenant's presence now (one unit: Redis and the team's away switches)."""
        try:
            await in_tenant(
                self.tenant.schema_name, availability.presence_announce, tenant_id=self.tenant.id
            )
        except Exception:  # visitors learn it at their next session or `ready` instead
            log.warning("presence: could not announce the agents' presence", exc_info=True)

    def _where(self, frame: frames.InConversation) -> dict:
        return {"room": frame.conversation, "site_id": frame.site_id}

    async def on_message(self, frame: frames.AgentMessageFrame) -> None:
        text = frame.stored_text()
        post = MessagePost(
            conversation=await self._conversation(frame),
            text=text,
            author_kind="agent",
            author_id=self.author["id"],
            author_name=self.author["name"],
            client_id=frame.client_id,
            private=frame.private,
            attachment_ids=tuple(frame.attachments),
        )
        message, _ = await writer.post(
            schema_name=self.tenant.schema_name, tenant_id=self.tenant.id, post=post
        )
        ack = frames.ack(
            client_id=frame.client_id, message_id=message.id, created_at=message.created_at
        )
        await self.send_frame(frames.in_conversation(ack, frame.conversation))

    async def _conversation(self, frame: frames.InConversation):
        """The conversation a frame names; remembered, as a room's site never changes."""
        key = (frame.conversation, frame.site_id)
        conversation = self.conversations.get(key)
        if conversation is None:
            conversation = await in_tenant(
                self.tenant.schema_name, _conversation_or_refuse, **self._where(frame)
            )
            if len(self.conversations) >= 1000:
                self.conversations.clear()
            self.conversations[key] = conversation
        return conversation

    async def on_typing(self, frame: frames.AgentTypingFrame) -> None:
        events.publish_typing(
            self.tenant.id,
            await self._conversation(frame),
            author=self.author,
            state=frame.state,
            sender=self.member_id,
        )

    async def on_read(self, frame: frames.AgentReadFrame) -> None:
        await in_tenant(
            self.tenant.schema_name,
            _mark_read,
            tenant_id=self.tenant.id,
            **self._where(frame),
            reader=self.author,
            up_to=frame.up_to,
            sender=self.member_id,
        )

    async def on_history(self, frame: frames.AgentHistoryFrame) -> None:
        messages, has_more = await in_tenant(
            self.tenant.schema_name,
            _history,
            **self._where(frame),
            before_id=frame.before,
            limit=frame.limit,
        )
        history = frames.history(messages=messages, has_more=has_more)
        await self.send_frame(frames.in_conversation(history, frame.conversation))

    async def on_close_conversation(self, frame: frames.CloseConversationFrame) -> None:
        await in_tenant(
            self.tenant.schema_name, _close, tenant_id=self.tenant.id, **self._where(frame)
        )

    # --- watchdog: idle, and the session's access ------------------------------------------

    async def watch(self, now: float) -> float | None:
        if now >= self.next_access_check:
            current = await in_tenant(
                self.tenant.schema_name, session_agent, session_key=self.agent.session_key
            )
            if not self.agent.same_access(current):
                await self.close_with(events.ACCESS_CHANGED)
                return None
            self.next_access_check = now + self.limits.access_recheck
        idle_at = await super().watch(now)
        return None if idle_at is None else min(idle_at, self.next_access_check)
