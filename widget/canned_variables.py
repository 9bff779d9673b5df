"""The variables of canned replies, in one place: which exist, checking that a body names only
those, and filling them in for a conversation.

A variable is `{{visitor.name}}`, optionally with a fallback for an empty value:
`{{visitor.name|there}}` gives "there" to a visitor who never said their name. Spaces inside
the braces are allowed. Filling in is plain text substitution: the values are never parsed
again, and no template engine ever runs over a tenant's text (a body or a visitor's name that
looks like a template stays text).
"""

import re
from collections.abc import Mapping

# `{{ ... }}`, whatever it holds: each must then parse as a known variable.
_BRACES = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
_VARIABLE = re.compile(r"^\s*([a-z_]+\.[a-z_]+)\s*(?:\|([^{}|\n]{0,100}?))?\s*$")

VARIABLES: dict[str, str] = {
    "visitor.name": "the visitor's name",
    "visitor.first_name": "the first word of the visitor's name",
    "visitor.email": "the visitor's email",
    "agent.name": "your name as visitors see it",
    "site.name": "the site's name",
}


def variables_unknown(body: str) -> list[str]:
    """What `body` writes in double braces that is not a variable, as written (in order, once
    each): saving is refused with these named, rather than sending them to visitors."""
    unknown = []
    for found in _BRACES.finditer(body):
        parsed = _VARIABLE.match(found.group(1))
        if (parsed is None or parsed.group(1) not in VARIABLES) and found.group(0) not in unknown:
            unknown.append(found.group(0))
    return unknown


def variables_fill(body: str, values: Mapping[str, str]) -> str:
    """`body` with each variable replaced by its value, or by its fallback when the value is
    empty (no fallback: nothing). What is not a variable is left as written."""

    def fill(found: re.Match) -> str:
        parsed = _VARIABLE.match(found.group(1))
        if parsed is None or parsed.group(1) not in VARIABLES:
            return found.group(0)
        name, fallback = parsed.groups()
        return values.get(name, "").strip() or (fallback or "").strip()

    return _BRACES.sub(fill, body)


def conversation_values(
    *, visitor_name: str, visitor_email: str, agent_name: str, site_name: str
) -> dict[str, str]:
    """The variables' values for one conversation and the agent answering it."""
    return {
        "visitor.name": visitor_name,
        "visitor.first_name": visitor_name.split()[0] if visitor_name.split() else "",
        "visitor.email": visitor_email,
        "agent.name": agent_name,
        "site.name": site_name,
    }
