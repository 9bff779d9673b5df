"""How people look in the dashboard: a member's picture, or initials on their name's colour.

`people.js` draws the same markup for messages that arrive live, from what the server computed
(`accounts.avatars.initials_avatar`: in the agent socket's message frames, and here in the team
directory), so a message looks the same before and after a reload.
"""

from django import template

from accounts.avatars import avatar_url, initials_avatar
from accounts.models import User

register = template.Library()


def _team(context) -> dict[str, User]:
    """The tenant's members by id (as messages name their author), read once per page."""
    cached = context.render_context.get("people_team")
    if cached is None:
        cached = {str(member.pk): member for member in User.objects.all()}
        context.render_context["people_team"] = cached
    return cached


@register.inclusion_tag("dashboard/_avatar.html")
def avatar(name: str, url: str = "", size: str = ""):
    return {"name": name, "url": url, "size": size, **initials_avatar(name)}


@register.inclusion_tag("dashboard/_avatar.html")
def member_avatar(member: User, size: str = ""):
    return avatar(member.public_name, avatar_url(member), size)


@register.inclusion_tag("dashboard/_avatar.html", takes_context=True)
def message_avatar(context, message):
    """A message's author: the member's current picture (an agent's message names its member by
    id), else initials of the name the message was written under."""
    name = message.author_name or message.get_author_kind_display()
    member = _team(context).get(message.author_id) if message.author_kind == "agent" else None
    return avatar(name, avatar_url(member) if member else "")


@register.simple_tag(takes_context=True)
def team_directory(context) -> dict:
    """{member id: {"name", "avatar" (the picture's path or ""), "initials", "color"}} for
    `json_script`: how people.js draws live messages (the member's own, before the server has
    sent it back, with the initials and colour of their name)."""
    return {
        member_id: {
            "name": member.public_name,
            "avatar": avatar_url(member),
            **initials_avatar(member.public_name),
        }
        for member_id, member in _team(context).items()
    }
