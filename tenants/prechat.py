"""What a site's widget asks a visitor before their first message (the pre-chat form): nothing,
their name and email, or their email at least; plus the tenant's own fields.

`prechat_fields_parse` validates the fields a tenant defines (`ValueError` naming the field);
`prechat_answers_clean` (in the chat, `widget.services.visitors`) checks a visitor's answers
against them. A field is `{"key", "label", "type", "required", "options"}`.
"""

import re

FIELD_TYPES = ("text", "email", "number", "select", "checkbox")
MAX_FIELDS = 10
MAX_LABEL = 80
MAX_OPTIONS = 20
KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
# The visitor's own name and email are asked by the form's mode, not as custom fields.
RESERVED_KEYS = frozenset({"name", "email", "message"})


def field_key(label: str) -> str:
    """A key for a label: "Order number" -> "order_number"."""
    key = re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_")[:40].strip("_")
    return key if key and key[0].isalpha() else f"field_{key}".strip("_")[:40]


def prechat_fields_parse(fields: object) -> list[dict]:
    if not isinstance(fields, list) or len(fields) > MAX_FIELDS:
        raise ValueError(f"prechat_fields: a list of at most {MAX_FIELDS} fields")
    parsed, keys = [], set()
    for index, field in enumerate(fields):
        where = f"prechat_fields[{index}]"
        if not isinstance(field, dict):
            raise ValueError(f"{where}: an object with label and type")
        unknown = set(field) - {"key", "label", "type", "required", "options"}
        if unknown:
            raise ValueError(f"{where}: unknown property {sorted(unknown)[0]!r}")
        label = field.get("label")
        if not isinstance(label, str) or not label.strip() or len(label.strip()) > MAX_LABEL:
            raise ValueError(f"{where}.label: 1 to {MAX_LABEL} characters")
        label = label.strip()
        key = field.get("key") or field_key(label)
        if not isinstance(key, str) or not KEY_PATTERN.match(key) or key in RESERVED_KEYS:
            raise ValueError(
                f"{where}.key: lower-case letters, digits and _ (not name, email or message)"
            )
        if key in keys:
            raise ValueError(f"{where}.key: {key!r} is used twice")
        keys.add(key)
        kind = field.get("type")
        if kind not in FIELD_TYPES:
            raise ValueError(f"{where}.type: one of {', '.join(FIELD_TYPES)}")
        required = field.get("required", False)
        if not isinstance(required, bool):
            raise ValueError(f"{where}.required: true or false")
        options = field.get("options") or []
        if kind == "select":
            if (
                not isinstance(options, list)
                or not 1 <= len(options) <= MAX_OPTIONS
                or not all(
                    isinstance(option, str) and 0 < len(option.strip()) <= MAX_LABEL
                    for option in options
                )
            ):
                raise ValueError(
                    f"{where}.options: 1 to {MAX_OPTIONS} choices of 1 to {MAX_LABEL} characters"
                )
            options = list(dict.fromkeys(option.strip() for option in options))
        elif options:
            raise ValueError(f"{where}.options: only a select has options")
        parsed.append(
            {"key": key, "label": label, "type": kind, "required": required, "options": options}
        )
    return parsed
