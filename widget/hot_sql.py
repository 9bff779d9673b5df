"""The statements on the sockets' hot paths, in plain SQL.

All of a worker's sockets share one database thread, so the Python each statement costs there
caps the worker: how fast it accepts visitors (the reads behind `ready`) and how many messages it
stores (the reads and the update under `message_post_many`'s lock). Built with the ORM,
an `auth` took about 1.3 ms of that thread's CPU and a one-message write 2.0 ms, most of it
compiling querysets; with these statements, and `message` frames made straight from the rows,
0.25 ms and 0.9 ms (docs/PERFORMANCE.md). The insert stays `bulk_create`. Table and column names
come from the models; `tests/widget/test_hot_sql.py` checks the answers against the models.

Like the rest of the tenant's data, these run inside the tenant's schema (`in_tenant`).
"""

import orjson
from django.db import connection

from widget import frames
from widget.models import Conversation, Label, Message, Visitor


def _columns(model, alias: str) -> tuple[list[str], str]:
    names = [field.attname for field in model._meta.concrete_fields]
    columns = ", ".join(f'{alias}."{field.column}"' for field in model._meta.concrete_fields)
    return names, columns


_ROOM_FIELDS, _ROOM_COLUMNS = _columns(Conversation, "c")
_VISITOR_FIELDS, _VISITOR_COLUMNS = _columns(Visitor, "v")
_ROOMS = Conversation._meta.db_table
_VISITORS = Visitor._meta.db_table
_MESSAGES = Message._meta.db_table

# A private room joins its own visitor; a public room looks up the visitor who joins it.
_PRIVATE_ROOM = (
    f"SELECT {_ROOM_COLUMNS}, {_VISITOR_COLUMNS} FROM {_ROOMS} c "
    f'JOIN {_VISITORS} v ON v."id" = c."visitor_id" '
    f'WHERE c."site_id" = %s AND c."room" = %s AND c."visitor_id" = %s'
)
_PUBLIC_ROOM = (
    f"SELECT {_ROOM_COLUMNS}, {_VISITOR_COLUMNS} FROM {_ROOMS} c "
    f'LEFT JOIN {_VISITORS} v ON v."id" = %s AND v."site_id" = c."site_id" '
    f'WHERE c."site_id" = %s AND c."room" = %s'
)
# In the order of `frames.message`'s parameters: a row is a frame's arguments.
_MESSAGE_COLUMNS = (
    '"id", "client_id", "text", "created_at", "author_kind", "author_id", "author_name"'
)
# These serve the visitor's socket: never a private note (the team's own).
_NEWEST = (
    f"SELECT {_MESSAGE_COLUMNS} FROM {_MESSAGES} "
    f'WHERE "conversation_id" = %s AND NOT "private" ORDER BY "id" DESC LIMIT %s'
)
_AFTER = (
    f"SELECT {_MESSAGE_COLUMNS} FROM {_MESSAGES} "
    f'WHERE "conversation_id" = %s AND "id" > %s AND NOT "private" ORDER BY "id" LIMIT %s'
)
# A resume's overlap: of the newest `limit` messages up to `since` (a bounded scan of the room's
# (conversation, id) index, however old the room), those stored within `overlap` seconds of it.
_UP_TO = (
    f"SELECT * FROM (SELECT {_MESSAGE_COLUMNS} FROM {_MESSAGES} "
    f'WHERE "conversation_id" = %s AND "id" <= %s AND NOT "private" '
    f'ORDER BY "id" DESC LIMIT %s) recent '
    f'WHERE recent."created_at" >= (SELECT "created_at" FROM {_MESSAGES} '
    f'WHERE "conversation_id" = %s AND "id" <= %s ORDER BY "id" DESC LIMIT 1) '
    f"- make_interval(secs => %s) "
    f'ORDER BY recent."id"'
)


# The message writer (services.messages.message_post_many), under its transaction: lock the rooms
# in id order with their visitors, and find the client_ids their authors already stored.
_LOCK_ROOMS = (
    f"SELECT {_ROOM_COLUMNS}, {_VISITOR_COLUMNS} FROM {_ROOMS} c "
    f'LEFT JOIN {_VISITORS} v ON v."id" = c."visitor_id" '
    f'WHERE c."id" = ANY(%s) ORDER BY c."id" FOR UPDATE OF c'
)
_MESSAGE_FIELDS, _MESSAGE_ALL_COLUMNS = _columns(Message, "m")
_KNOWN = (
    f"SELECT {_MESSAGE_ALL_COLUMNS} FROM {_MESSAGES} m "
    f'WHERE m."conversation_id" = ANY(%s) AND m."client_id" = ANY(%s) AND m."author_id" = ANY(%s)'
)
# The room's state after a batch (the writer computed it under the row lock), and in the same
# statement what the agents' list shows of it: its unread visitor messages (at most
# UNREAD_CAP: a count that stops, so a conversation nobody read costs a bounded scan) and its
# labels. One statement: this runs for every message of every socket.
UNREAD_CAP = 100
_LABELS = Label._meta.db_table
_ROOM_LABELS = Conversation.labels.through._meta.db_table


def unread_sql(room: str) -> str:
    """The count of a room's unread visitor messages (up to UNREAD_CAP), as a subquery on the
    conversation row named `room` (an alias or a quoted table name): the frames' and the inbox
    list's `unread` are this one expression. A room whose newest visitor message is read costs
    no look into the messages."""
    return (
        f'(CASE WHEN {room}."last_visitor_message_id" <= {room}."agent_read_up_to" THEN 0 ELSE '
        f"(SELECT count(*) FROM (SELECT 1 FROM {_MESSAGES} m "
        f'WHERE m."conversation_id" = {room}."id" AND m."author_kind" = \'visitor\' '
        f'AND m."id" > {room}."agent_read_up_to" LIMIT {UNREAD_CAP}) unread) END)'
    )


_UNREAD = unread_sql("c")
_LABELS_JSON = (
    f"(SELECT coalesce(json_agg(json_build_object('id', l.\"id\", 'name', l.\"name\", "
    f"'color', l.\"color\") ORDER BY l.\"name\"), '[]') FROM {_ROOM_LABELS} cl "
    f'JOIN {_LABELS} l ON l."id" = cl."label_id" WHERE cl."conversation_id" = c."id")'
)
_TOUCH_ROOM = (
    f'UPDATE {_ROOMS} c SET "last_message_at" = %s, "status" = %s, "snoozed_until" = %s, '
    f'"waiting_since" = %s, "last_visitor_message_id" = %s WHERE c."id" = %s '
    f"RETURNING {_UNREAD}, {_LABELS_JSON}::text"
)


def _fetch(sql: str, params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def room_with_visitor(
    *, site_id: int, room: str, visitor_id: str, private: bool
) -> tuple[Conversation | None, Visitor | None]:
    """The room (None if it does not exist) and the visitor (None if erased). A private room is
    found only with its own visitor."""
    if private:
        rows = _fetch(_PRIVATE_ROOM, [site_id, room, visitor_id])
    else:
        rows = _fetch(_PUBLIC_ROOM, [visitor_id, site_id, room])
    if not rows:
        return None, None
    conversation, visitor = _room_and_visitor(rows[0])
    if private:
        conversation.visitor = visitor  # its own visitor; a public room's is the one joining
    return conversation, visitor


def _room_and_visitor(row: tuple) -> tuple[Conversation, Visitor | None]:
    """The models of a row of a room's columns followed by a visitor's (all NULL: None)."""
    split = len(_ROOM_FIELDS)
    conversation = Conversation.from_db(connection.alias, _ROOM_FIELDS, row[:split])
    if row[split] is None:
        return conversation, None
    visitor = Visitor.from_db(connection.alias, _VISITOR_FIELDS, row[split:])
    # Raw rows carry jsonb as text (Django decodes JSONField values itself, in its converters).
    if isinstance(visitor.attributes, str):
        visitor.attributes = orjson.loads(visitor.attributes)
    return conversation, visitor


def _room_with_its_visitor(row: tuple) -> Conversation:
    conversation, visitor = _room_and_visitor(row)
    conversation.visitor = visitor
    return conversation


def commit_without_waiting_for_the_disk() -> None:
    """This transaction's commit returns before its WAL reaches the disk (PostgreSQL's
    `synchronous_commit = off`, for this transaction only). Call inside `transaction.atomic()`.
    The risk, in docs/PERFORMANCE.md: a crash of the PostgreSQL server (not of Parley) loses
    the last commits of up to three `wal_writer_delay`s (600 ms by default) that were already
    acknowledged; the database stays consistent."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit = off")


def rooms_locked(room_ids: list[int]) -> dict[int, Conversation]:
    """The rooms, each with its visitor loaded, row-locked (`FOR UPDATE`) in id order until the
    transaction ends. Call inside `transaction.atomic()`."""
    return {room.pk: room for room in map(_room_with_its_visitor, _fetch(_LOCK_ROOMS, [room_ids]))}


def messages_with_client_ids(
    room_ids: list[int], client_ids: list[str], author_ids: list[str]
) -> list[Message]:
    """The messages of these rooms stored with one of these `client_id`s by one of these
    authors (the caller matches each to its own post: room, client_id, author kind and id)."""
    rows = _fetch(_KNOWN, [room_ids, client_ids, author_ids])
    return [Message.from_db(connection.alias, _MESSAGE_FIELDS, row) for row in rows]


def room_touch(room: Conversation) -> None:
    """Store the room's `last_message_at`, `status`, `snoozed_until` and `waiting_since`, and
    load onto it what its `conversation` frame tells the list (`unread`, `list_labels`): one
    UPDATE ... RETURNING."""
    with connection.cursor() as cursor:
        cursor.execute(
            _TOUCH_ROOM,
            [
                room.last_message_at,
                room.status,
                room.snoozed_until,
                room.waiting_since,
                room.last_visitor_message_id,
                room.pk,
            ],
        )
        unread, labels = cursor.fetchone()
    room.unread, room.list_labels = unread, orjson.loads(labels)


_LIST_STATE = f'SELECT {_UNREAD}, {_LABELS_JSON}::text FROM {_ROOMS} c WHERE c."id" = %s'


def room_list_state(room: Conversation) -> None:
    """Load onto the room what its `conversation` frame tells the list, as `room_touch` does:
    `unread` (visitor messages past the agents' read mark, at most UNREAD_CAP) and
    `list_labels` (its labels, `{"id", "name", "color"}` by name)."""
    rows = _fetch(_LIST_STATE, [room.pk])
    unread, labels = rows[0] if rows else (0, "[]")
    room.unread, room.list_labels = unread, orjson.loads(labels)


def frames_latest(*, conversation_id: int, limit: int) -> tuple[list[frames.MessageOut], bool]:
    """selectors.messages_latest, as frames: the `limit` newest, oldest first, and whether older
    ones exist."""
    rows = _fetch(_NEWEST, [conversation_id, limit + 1])
    return [frames.message(*row) for row in reversed(rows[:limit])], len(rows) > limit


def frames_after(
    *, conversation_id: int, after_id: int, limit: int, overlap: float
) -> tuple[list[frames.MessageOut], bool]:
    """A resume, as frames: every message after `after_id`, at most `limit`, oldest first, and
    whether more follow (the client then resumes again from the last one it got).

    With `overlap` (seconds), the answer starts with the messages up to `after_id` stored within
    `overlap` seconds before it. Ids are committed in order within a room, but two workers
    publish them independently, so a client can see id 110 live before id 104 reaches it; if its
    socket drops in between, it resumes `since` 110. 104 was stored before 110, and no more than
    one delivery delay before it: the overlap gives it back. Clients skip the ids they already
    have (PROTOCOL.md, Decisions).
    """
    rows = _fetch(_AFTER, [conversation_id, after_id, limit + 1])
    recent = []
    if overlap > 0:
        window = [conversation_id, after_id, limit, conversation_id, after_id, overlap]
        recent = _fetch(_UP_TO, window)
    return [frames.message(*row) for row in (*recent, *rows[:limit])], len(rows) > limit
