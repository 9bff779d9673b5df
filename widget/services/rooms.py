"""A visitor's socket joining a room: its private conversation, or a public room of the site
(created on first use where the site allows public rooms)."""

from core.errors import Forbidden, InvalidToken
from widget import events, hot_sql
from widget.models import Conversation, Visitor


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
