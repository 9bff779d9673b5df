"""`{{ value|attribute_text }}`: a custom attribute of `identify` as the visitor panel shows it.

Attributes are JSON scalars; the server's rendering and `visitor_panel.js` (which writes
`String(value)`, or "—" for null) must show one value alike before and after a reload: `true`,
not Python's `True`.
"""

import json

from django import template

register = template.Library()


@register.filter
def attribute_text(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return json.dumps(value)
    return str(value)


@register.filter
def answer_text(value) -> str:
    """A pre-chat answer as the panel shows it, server-side and live (visitor_panel.js): a
    ticked box Yes or No."""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    return str(value)
