"""Services that change conversations: joining rooms, posting messages, read marks, closing,
starting visitor sessions, erasing visitors.

Runs inside the tenant's schema: callers wrap calls in `schema_context(tenant.schema_name)` (or
run within a request that django-tenants has already routed to the tenant), except
`visitor_session_start`, which enters the site's schema itself. Every real-time event is
published by `widget.events` after the transaction commits, and so is every outbound webhook.
"""

import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from hashlib import sha256

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.db.models.functions import Greatest
from django_tenants.utils import schema_context

from core.errors import BadRequest, Forbidden, IdentityInvalid, IdentityRequired, InvalidToken
from tenants.billing import limits
from tenants.site_directory import SiteInfo
from tenants.tokens import VisitorToken, token_issue, token_verify
from widget import events, hot_sql, webhook_events
from widget.events import PRIVATE_ROOM_PREFIX
from widget.frames import Author
from widget.models import Conversation, Message, Visitor


@dataclass(frozen=True)
class MessagePost:
    """One message to store (see `message_post`)."""

    conversation: Conversation
    text: str
    author_kind: str
    author_id: str = ""
    author_name: str = ""
    client_id: str | None = None


def message_post(
    *,
    tenant_id: int,
    conversation: Conversation,
    text: str,
    author_kind: str,
    author_id: str = "",
    author_name: str = "",
    client_id: str | None = None,
) -> tuple[Message, bool]:
    """Store a message and publish it to the room and the tenant's agents after commit.

    A `client_id` seen before in the same room returns the stored message and publishes nothing
    again: a resend after a reconnect is stored and broadcast once. Returns (message, created).
    """
    post = MessagePost(conversation, text, author_kind, author_id, author_name, client_id)
    return message_post_many(tenant_id=tenant_id, posts=[post])[0]


def message_post_many(*, tenant_id: int, posts: list[MessagePost]) -> list[tuple[Message, bool]]:
    """`message_post` for several messages in one transaction, answered in order.

    The sockets batch the messages that arrive while the database is busy (widget.writer): one
    commit (one disk flush) then serves them all.

    Writers of a room are serialized by a row lock on its conversation (taken in id order, so
    batches cannot deadlock), so message ids are committed in increasing order within a room:
    a client resuming `since` an id it has seen cannot miss an older message committed later.
    Under the lock, the `client_id`s already stored are visible, so a resend is never inserted.

    Every new message counts toward the tenant's monthly allowance, whoever wrote it (visitor,
    agent, the API); a resend does not. Past the allowance: `PlanLimit`, and nothing is stored.
    """
    quota = limits.MessageQuota(tenant_id)
    try:
        with transaction.atomic():
            return _store(tenant_id, posts, quota)
    except IntegrityError:
        quota.give_back()  # not stored: not counted
        if len(posts) > 1:
            # A writer that does not take the room lock raced in: settle the posts one by one.
            return [message_post_many(tenant_id=tenant_id, posts=[post])[0] for post in posts]
        post = posts[0]
        stored = Message.objects.get(conversation=post.conversation, client_id=post.client_id)
        return [(stored, False)]
    except BaseException:
        quota.give_back()
        raise


def _store(
    tenant_id: int, posts: list[MessagePost], quota: limits.MessageQuota
) -> list[tuple[Message, bool]]:
    # Plain SQL for the reads (widget.hot_sql): every message of every socket goes through
    # here, on the one database thread; built with the ORM they were most of its CPU.
    room_ids = sorted({post.conversation.pk for post in posts})
    rooms = hot_sql.rooms_locked(room_ids)
    if len(rooms) < len(room_ids):
        raise BadRequest("This conversation no longer exists.")
    client_ids = sorted({post.client_id for post in posts if post.client_id is not None})
    known = {}
    if client_ids:
        known = {
            (message.conversation_id, message.client_id): message
            for message in hot_sql.messages_with_client_ids(room_ids, client_ids)
        }
    answers: list[tuple[Message, bool]] = []
    fresh: list[Message] = []
    for post in posts:
        key = (post.conversation.pk, post.client_id)
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
        )
        fresh.append(message)
        if post.client_id is not None:
            known[key] = message  # the same client_id twice in one batch: stored once
        answers.append((message, True))
    if not fresh:
        return answers
    quota.take(len(fresh))
    Message.objects.bulk_create(fresh)  # ids in list order: increasing within each room

    room_events = []
    for room_id in room_ids:
        room = rooms[room_id]
        newest = [message for message in fresh if message.conversation_id == room_id]
        if not newest:
            continue
        event = "created" if room.last_message_at is None else "updated"
        room.last_message_at, room.status = newest[-1].created_at, Conversation.Status.OPEN
        hot_sql.room_touch(room)
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

    def queue_webhooks() -> None:
        for message in fresh:
            webhook_events.on_message_created(tenant_id, message.conversation, message)

    transaction.on_commit(publish)
    # robust: a failure to queue a webhook is logged and never fails the message's sender.
    transaction.on_commit(queue_webhooks, robust=True)
    return answers


def chat_join(*, site_id: int, room: str, visitor_id: str, token_room: str, public_rooms: bool):
    """The conversation a visitor's socket joins, and the visitor (None if erased).

    A private room (`cv_…`) must be the token's own conversation; any other name is a public
    room, joined (and created on first use) only where the site allows public rooms.
    """
    private = events.is_private_room(room)
    if private and room != token_room:
        raise Forbidden("This token may not join this conversation.")
    if not private and not public_rooms:
        raise Forbidden("This site has no public rooms.")
    conversation, visitor = hot_sql.room_with_visitor(
        site_id=site_id, room=room, visitor_id=visitor_id, private=private
    )
    if conversation is not None:
        return conversation, visitor
    if private:
        raise InvalidToken("This conversation no longer exists; start a new session.")
    conversation, _ = Conversation.objects.get_or_create(
        site_id=site_id, room=room, defaults={"kind": Conversation.Kind.PUBLIC}
    )
    return conversation, Visitor.objects.filter(pk=visitor_id, site_id=site_id).first()


def conversation_mark_read(
    *, tenant_id: int, conversation: Conversation, reader: Author, up_to: int, sender: str = ""
) -> None:
    """Store how far the visitor or the agents have read (a mark never moves back) and tell the
    room's other members and the agents."""
    field = "visitor_read_up_to" if reader["kind"] == "visitor" else "agent_read_up_to"
    Conversation.objects.filter(pk=conversation.pk).update(**{field: Greatest(F(field), up_to)})
    transaction.on_commit(
        lambda: events.publish_read(
            tenant_id, conversation, author=reader, up_to=up_to, sender=sender
        )
    )


@transaction.atomic
def conversation_close(*, tenant_id: int, conversation: Conversation) -> bool:
    """Close a conversation (it reopens with its next message), tell the agents and the tenant's
    webhooks. Returns False when it was closed already (nothing happens)."""
    closed = Conversation.objects.filter(
        pk=conversation.pk, status=Conversation.Status.OPEN
    ).update(status=Conversation.Status.CLOSED)
    if not closed:
        return False
    conversation.status = Conversation.Status.CLOSED
    snapshot = _snapshot(conversation)
    transaction.on_commit(lambda: events.publish_conversation(tenant_id, snapshot, "closed"))
    transaction.on_commit(
        lambda: webhook_events.on_conversation_closed(tenant_id, snapshot), robust=True
    )
    return True


def conversation_created(*, tenant_id: int, conversation: Conversation) -> None:
    """Tell the agents about a conversation just created (the widget session endpoint)."""
    snapshot = _snapshot(conversation)
    transaction.on_commit(lambda: events.publish_conversation(tenant_id, snapshot, "created"))


def _snapshot(conversation: Conversation) -> Conversation:
    """A copy of the conversation as it is now, for an event published after commit: later
    changes to the caller's instance must not change what the event says."""
    if conversation.visitor_id:
        conversation.visitor  # noqa: B018 - load it now, inside the tenant's schema
    copy = Conversation(
        **{f.attname: getattr(conversation, f.attname) for f in Conversation._meta.concrete_fields}
    )
    if conversation.visitor_id:
        copy.visitor = conversation.visitor
    return copy


# --- Visitor sessions (POST /api/widget/v1/session) -------------------------------------------


@dataclass(frozen=True)
class VisitorIdentity:
    """Who the tenant's page says the visitor is (`Parley('identify', ...)`)."""

    user_id: str
    name: str = ""
    email: str = ""
    hash: str = ""


@dataclass(frozen=True)
class VisitorSession:
    visitor: Visitor
    conversation: Conversation
    token: str
    claims: VisitorToken


def identity_verified(*, site: SiteInfo, identity: VisitorIdentity | None) -> bool:
    """Whether the identity is proven by its hash. Raises when the site cannot accept it.

    A hash that does not match is refused on every site. Without a hash, a site that requires
    identity refuses; another site takes the name and email as the visitor's own words only: an
    unproven user id never joins a conversation that belongs to that id.
    """
    if identity is None or not identity.hash:
        if site.require_identity:
            raise IdentityRequired()
        return False
    expected = hmac.new(site.identity_secret.encode(), identity.user_id.encode(), sha256)
    # Bytes, not str: compare_digest raises TypeError on a str with non-ASCII characters.
    if not hmac.compare_digest(expected.hexdigest().encode(), identity.hash.lower().encode()):
        raise IdentityInvalid()
    return True


def _previous_claims(site: SiteInfo, visitor_token: str | None) -> VisitorToken | None:
    """The previous token's claims when it is valid and for this site; else a fresh start."""
    if not visitor_token:
        return None
    try:
        claims = token_verify(visitor_token)
    except InvalidToken:
        return None
    if claims.site_id != site.site_id or claims.tenant_id != site.tenant_id:
        return None
    return claims


def _identified_visitor(site: SiteInfo, user_id: str, previous: Visitor | None) -> Visitor:
    # Two devices of one user may start a session at the same moment: serialize on the user.
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"{site.site_id}:{user_id}"])
    known = Visitor.objects.filter(site_id=site.site_id, external_id=user_id).first()
    if known is not None:
        return known
    if previous is not None and not previous.external_id:
        previous.external_id = user_id  # the anonymous visitor has just logged in
        return previous
    return Visitor(site_id=site.site_id, external_id=user_id)


def _private_conversation(site: SiteInfo, visitor: Visitor) -> tuple[Conversation, bool]:
    conversation = (
        Conversation.objects.filter(
            site_id=site.site_id, visitor=visitor, kind=Conversation.Kind.PRIVATE
        )
        .order_by("-id")
        .first()
    )
    if conversation is not None:
        return conversation, False
    conversation = Conversation.objects.create(
        room=PRIVATE_ROOM_PREFIX + secrets.token_urlsafe(16),
        site_id=site.site_id,
        kind=Conversation.Kind.PRIVATE,
        visitor=visitor,
    )
    return conversation, True


def visitor_session_start(
    *, site: SiteInfo, visitor_token: str | None = None, identity: VisitorIdentity | None = None
) -> VisitorSession:
    """Start or resume a widget session: the visitor, their private conversation and a token.

    A valid previous token of this site keeps its visitor and conversation; an invalid, expired
    or other site's token starts a new visitor. A verified identity keeps one visitor (and so
    one conversation) per user id across devices. Runs in the site's tenant schema.
    """
    verified = identity_verified(site=site, identity=identity)
    previous = _previous_claims(site, visitor_token)
    with schema_context(site.schema_name), transaction.atomic():
        visitor = None
        if previous is not None:
            visitor = Visitor.objects.filter(id=previous.visitor_id, site_id=site.site_id).first()
        if verified:
            visitor = _identified_visitor(site, identity.user_id, visitor)
        elif visitor is None:
            visitor = Visitor(site_id=site.site_id)
        if identity is not None:
            visitor.name = identity.name or visitor.name
            visitor.email = identity.email or visitor.email
        visitor.save()
        conversation, created = _private_conversation(site, visitor)
        if created:
            conversation_created(tenant_id=site.tenant_id, conversation=conversation)
            transaction.on_commit(
                lambda: webhook_events.on_conversation_created(site.tenant_id, conversation),
                robust=True,
            )
    token, claims = token_issue(
        tenant_id=site.tenant_id,
        site_id=site.site_id,
        visitor_id=str(visitor.id),
        conversation=conversation.room,
        user_id=visitor.external_id,
    )
    return VisitorSession(visitor=visitor, conversation=conversation, token=token, claims=claims)


# --- Visitors (site-key API) ----------------------------------------------------------------


@transaction.atomic
def visitor_erase(*, visitor: Visitor) -> None:
    """Erase a visitor: their conversations with every message in them, and what they wrote in
    public rooms. Runs in the tenant's schema."""
    Message.objects.filter(
        author_kind=Message.AuthorKind.VISITOR, author_id=str(visitor.id)
    ).delete()
    visitor.delete()  # cascades to their conversations and those conversations' messages


# --- Conversation state (the dashboard) ------------------------------------------------------


def _publish_after_commit(tenant_id: int, conversation: Conversation, event: str) -> Conversation:
    """Reload the conversation with what its frame names, and tell the agents after commit.

    Loaded now, while the connection is certainly in the tenant's schema: the commit hook may run
    after the caller's schema_context has ended, and must not query.
    """
    fresh = Conversation.objects.select_related("visitor").get(pk=conversation.pk)
    transaction.on_commit(lambda: events.publish_conversation(tenant_id, fresh, event))
    return fresh


@transaction.atomic
def conversation_reopen(*, tenant_id: int, conversation: Conversation) -> Conversation:
    Conversation.objects.filter(pk=conversation.pk).update(status=Conversation.Status.OPEN)
    return _publish_after_commit(tenant_id, conversation, "updated")


@transaction.atomic
def conversation_assign(*, tenant_id: int, conversation: Conversation, assignee) -> Conversation:
    """Give the conversation to a member of the team, or to nobody (`assignee=None`)."""
    if assignee is not None and not assignee.is_active:
        raise BadRequest("Only an active member of the team can be assigned.")
    Conversation.objects.filter(pk=conversation.pk).update(assignee=assignee)
    return _publish_after_commit(tenant_id, conversation, "updated")


PRUNE_BATCH = 5000


def messages_prune(*, before: datetime) -> int:
    """Delete the messages written before `before`, in batches (short transactions, short locks);
    returns how many. Conversations stay, with their visitor and state."""
    deleted = 0
    while True:
        batch = list(
            Message.objects.filter(created_at__lt=before)
            .order_by("id")
            .values_list("id", flat=True)[:PRUNE_BATCH]
        )
        if not batch:
            return deleted
        deleted += Message.objects.filter(id__in=batch).delete()[0]
