"""Storing messages: one (`message_post`, the REST API and the dashboard) or a batch in one
transaction (`message_post_many`, the sockets' writer), each queued for the tenant's webhooks in
that transaction and announced to the room and the tenant's agents after commit.

This is the hottest write of the product: every message of every socket comes through here on
the one database thread, so its reads and its room update are plain SQL (`widget.hot_sql`).
"""

from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction

from accounts.services import member_take_turn
from core.errors import BadRequest
from tenants.billing import limits
from tenants.selectors import site_auto_assigns
from widget import events, hot_sql, presence, webhook_events
from widget.attachments import links
from widget.models import Conversation, Message
from widget.services.attachments import attachments_link


@dataclass(frozen=True)
class MessagePost:
    """One message to store (see `message_post`)."""

    conversation: Conversation
    text: str
    author_kind: str
    author_id: str = ""
    author_name: str = ""
    client_id: str | None = None
    # A note for the team (agents only): never sent to the visitor (`events.publish_message`).
    private: bool = False
    # Unsent uploads this message sends (widget.services.attachments.attachments_link), made by
    # `uploader_id` (by default its author; the API key's name for the site-key API).
    attachment_ids: tuple[str, ...] = ()
    uploader_id: str = ""


def message_post(
    *,
    tenant_id: int,
    conversation: Conversation,
    text: str,
    author_kind: str,
    author_id: str = "",
    author_name: str = "",
    client_id: str | None = None,
    private: bool = False,
    attachment_ids: tuple[str, ...] = (),
    uploader_id: str = "",
) -> tuple[Message, bool]:
    """Store a message and publish it to the room and the tenant's agents after commit.

    A `client_id` its author used before in the same room returns the stored message and
    publishes nothing again: a resend after a reconnect is stored and broadcast once. Another
    author's message with that `client_id` is not this one's. Returns (message, created).
    """
    post = MessagePost(
        conversation,
        text,
        author_kind,
        author_id,
        author_name,
        client_id,
        private,
        tuple(attachment_ids),
        uploader_id,
    )
    return message_post_many(tenant_id=tenant_id, posts=[post])[0]


def message_post_many(*, tenant_id: int, posts: list[MessagePost]) -> list[tuple[Message, bool]]:
    """`message_post` for several messages in one transaction, answered in order.

    The sockets batch the messages that arrive while the database is busy (widget.writer): one
    commit (one disk flush) then serves them all.

    Writers of a room are serialized by a row lock on its conversation (taken in id order, so
    batches cannot deadlock), so message ids are committed in increasing order within a room:
    a client resuming `since` an id it has seen cannot miss an older message committed later.
    Under the lock, the `client_id`s already stored are visible, so a resend is never inserted.

    With `PARLEY_MESSAGES_SYNCHRONOUS_COMMIT=false` the commit does not wait for the disk
    (`hot_sql.commit_without_waiting_for_the_disk`, with its risk).

    Every new message counts toward the tenant's monthly allowance, whoever wrote it (visitor,
    agent, the API); a resend does not. Past the allowance: `PlanLimit`, and nothing is stored.
    """
    quota = limits.MessageQuota(tenant_id)
    try:
        with transaction.atomic():
            if not settings.MESSAGES_SYNCHRONOUS_COMMIT:
                hot_sql.commit_without_waiting_for_the_disk()
            return _store(tenant_id, posts, quota)
    except IntegrityError:
        quota.give_back()  # not stored: not counted
        if len(posts) > 1:
            # A writer that does not take the room lock raced in: settle the posts one by one.
            return [message_post_many(tenant_id=tenant_id, posts=[post])[0] for post in posts]
        post = posts[0]
        stored = Message.objects.get(
            conversation=post.conversation,
            client_id=post.client_id,
            author_kind=post.author_kind,
            author_id=post.author_id,
        )
        return [(stored, False)]
    except BaseException:
        quota.give_back()
        raise


def _resend_key(room_id: int, post: MessagePost | Message) -> tuple:
    """What makes a message a resend of another: the same room, client_id and author (the
    database's `unique_client_id_per_author`)."""
    return (room_id, post.client_id, post.author_kind, post.author_id)


def _store(
    tenant_id: int, posts: list[MessagePost], quota: limits.MessageQuota
) -> list[tuple[Message, bool]]:
    # Plain SQL for the reads (widget.hot_sql): every message of every socket goes through
    # here, on the one database thread; built with the ORM they were most of its CPU.
    room_ids = sorted({post.conversation.pk for post in posts})
    rooms = hot_sql.rooms_locked(room_ids)
    if len(rooms) < len(room_ids):
        raise BadRequest("This conversation no longer exists.")
    with_client_ids = [post for post in posts if post.client_id is not None]
    known = {}
    if with_client_ids:
        known = {
            _resend_key(message.conversation_id, message): message
            for message in hot_sql.messages_with_client_ids(
                room_ids,
                sorted({post.client_id for post in with_client_ids}),
                sorted({post.author_id for post in with_client_ids}),
            )
        }
    answers: list[tuple[Message, bool]] = []
    fresh: list[Message] = []
    sending_files: list[tuple[Message, MessagePost]] = []
    for post in posts:
        key = _resend_key(post.conversation.pk, post)
        if post.client_id is not None and key in known:
            answers.append((known[key], False))
            continue
        message = Message(
            conversation=rooms[post.conversation.pk],
            client_id=post.client_id,
            author_kind=post.author_kind,
            author_id=post.author_id,
            author_name=post.author_name,
            text=post.text,
            private=post.private,
        )
        fresh.append(message)
        if post.attachment_ids:
            sending_files.append((message, post))
        if post.client_id is not None:
            known[key] = message  # the same client_id twice in one batch: stored once
        answers.append((message, True))
    if not fresh:
        return answers
    quota.take(len(fresh))
    Message.objects.bulk_create(fresh)  # ids in list order: increasing within each room
    for message, post in sending_files:
        linked = attachments_link(
            message=message,
            attachment_ids=post.attachment_ids,
            uploader_id=post.uploader_id or post.author_id,
        )
        message.attachments_out = [links.attachment_out(row) for row in linked]

    room_events = []
    for room_id in room_ids:
        room = rooms[room_id]
        newest = [message for message in fresh if message.conversation_id == room_id]
        if not newest:
            continue
        event = "created" if room.last_message_at is None else "updated"
        room.last_message_at, room.status = newest[-1].created_at, Conversation.Status.OPEN
        _wait_and_wake(room, newest)
        hot_sql.room_touch(room)
        if event == "created":
            _assign_in_turn(tenant_id, room, newest)
        room_events.append((room, event))
    for post in posts:
        room = rooms[post.conversation.pk]
        post.conversation.last_message_at, post.conversation.status = (
            room.last_message_at,
            room.status,
        )

    def publish() -> None:
        for message in fresh:
            events.publish_message(tenant_id, message.conversation, message)
        for room, event in room_events:
            events.publish_conversation(tenant_id, room, event)

    # In this transaction, not after it: a crash between the commit and a hook would lose them.
    # A conversation exists for the tenant from its first message (not from the widget session
    # that made its row): that is when `conversation.created` is queued, before the message's.
    for room, event in room_events:
        if event == "created":
            webhook_events.enqueue_conversation_created(tenant_id, room)
    webhook_events.enqueue_messages_created(tenant_id, fresh)
    transaction.on_commit(publish)
    return answers


def _assign_in_turn(tenant_id: int, room: Conversation, newest: list[Message]) -> None:
    """A conversation that starts with a visitor's message, on a site that assigns in turn
    (`Site.auto_assign`), goes to the online agent given one longest ago; with nobody online it
    stays unassigned. Only at its start: one first message per conversation, so the lookups
    here (the site, Redis, the team) are off the path of every later message."""
    if room.assignee_id is not None or newest[0].author_kind != Message.AuthorKind.VISITOR:
        return
    if not site_auto_assigns(site_id=room.site_id):
        return
    member = member_take_turn(candidate_ids=presence.agents_online_ids(tenant_id))
    if member is not None:
        Conversation.objects.filter(pk=room.pk).update(assignee=member)
        room.assignee_id = member.pk


def _wait_and_wake(room: Conversation, newest: list[Message]) -> None:
    """The room's `waiting_since`, `snoozed_until` and `last_visitor_message_id` after its new
    messages (in order), set on the locked row for `hot_sql.room_touch`.

    A visitor's message wakes a snoozed conversation and, if nobody was waiting yet, starts the
    wait; an agent's reply ends it (a private note is no answer); a system notice changes
    neither.
    """
    for message in newest:
        if message.author_kind == Message.AuthorKind.VISITOR:
            room.last_visitor_message_id = message.id
            room.snoozed_until = None
            room.waiting_since = room.waiting_since or message.created_at
        elif message.author_kind == Message.AuthorKind.AGENT and not message.private:
            room.waiting_since = None
