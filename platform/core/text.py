"""Text that PostgreSQL cannot store, refused before anything is stored.

PostgreSQL's `text` and `jsonb` refuse the NUL character (U+0000): one such string fails its whole
INSERT, and the rows batched with it. JSON itself can carry NUL only escaped (`\\u0000`), and
orjson already refuses the other text PostgreSQL cannot hold (lone surrogates, raw control
characters), so a body or frame is only walked when its raw text holds that escape: the common
case costs one substring search.
"""

from core.errors import BadRequest

_ESCAPED_NUL = "\\u0000"
MESSAGE = "Text may not contain the NUL character (U+0000)."


def _holds_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(key) or _holds_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_holds_nul(item) for item in value)
    return False


def refuse_unstorable(raw: str | bytes, data) -> None:
    """Raise `BadRequest` when `data`, parsed from the JSON `raw`, holds a string with NUL."""
    marker = _ESCAPED_NUL if isinstance(raw, str) else _ESCAPED_NUL.encode()
    if marker in raw and _holds_nul(data):
        raise BadRequest(MESSAGE)
