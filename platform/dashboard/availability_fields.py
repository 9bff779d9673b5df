"""The site page's business hours and pre-chat fields as text a person types, and back.

A day's hours: `09:00-12:00, 13:00-17:30` (empty: closed). Closed dates: one `YYYY-MM-DD` a line
(or separated by commas). Pre-chat fields, one a line: `Label | type | required | Option, Option`
(`type`: text, email, number, select or checkbox; `required` or `optional`; options for a select
only). The rules themselves are `tenants.hours` and `tenants.prechat`, shared with the API.
"""

from django.core.exceptions import ValidationError

from tenants import hours
from tenants.prechat import FIELD_TYPES, prechat_fields_parse


def day_text(intervals: list[dict]) -> str:
    return ", ".join(f"{interval['start']}-{interval['end']}" for interval in intervals)


def day_parse(day: str, text: str) -> list[dict]:
    intervals = []
    for part in filter(None, (piece.strip() for piece in text.split(","))):
        start, dash, end = (piece.strip() for piece in part.partition("-"))
        if not dash:
            raise ValidationError(f"Write {part!r} as a range, like 09:00-17:00.")
        intervals.append({"start": _padded(start), "end": _padded(end)})
    try:
        hours.weekly_parse({day: intervals})
    except ValueError as error:
        raise ValidationError(_plain(str(error))) from None
    return intervals


def _padded(clock: str) -> str:
    """`9:00` -> `09:00`: people write the hour without its zero."""
    return f"0{clock}" if len(clock) == 4 and clock[1] == ":" else clock


def _plain(message: str) -> str:
    """`weekly_hours.mon: intervals overlap` -> `Intervals overlap.`"""
    text = message.partition(": ")[2] or message
    return text[0].upper() + text[1:] + "."


def closed_dates_text(dates) -> str:
    return "\n".join(str(day) for day in dates)


def closed_dates_parse(text: str) -> list[str]:
    values = [piece.strip() for piece in text.replace(",", "\n").splitlines() if piece.strip()]
    try:
        return [day.isoformat() for day in sorted(hours.closed_dates_parse(values))]
    except ValueError as error:
        raise ValidationError(_plain(str(error))) from None


def prechat_fields_text(fields: list[dict]) -> str:
    lines = []
    for field in fields:
        parts = [field["label"], field["type"], "required" if field["required"] else "optional"]
        if field.get("options"):
            parts.append(", ".join(field["options"]))
        lines.append(" | ".join(parts))
    return "\n".join(lines)


def prechat_fields_from_text(text: str) -> list[dict]:
    fields = []
    for number, line in enumerate(filter(None, map(str.strip, text.splitlines())), start=1):
        parts = [part.strip() for part in line.split("|")]
        if len(parts) < 2 or len(parts) > 4:
            raise ValidationError(f"Line {number}: write Label | type | required | options.")
        label, kind = parts[0], parts[1].lower()
        if kind not in FIELD_TYPES:
            raise ValidationError(f"Line {number}: the type is one of {', '.join(FIELD_TYPES)}.")
        need = parts[2].lower() if len(parts) > 2 else "optional"
        if need not in ("required", "optional"):
            raise ValidationError(f"Line {number}: say required or optional.")
        options = [option.strip() for option in parts[3].split(",")] if len(parts) > 3 else []
        fields.append(
            {
                "label": label,
                "type": kind,
                "required": need == "required",
                "options": [option for option in options if option],
            }
        )
    try:
        return prechat_fields_parse(fields)
    except ValueError as error:
        where, _, problem = str(error).partition(": ")
        index = where.partition("[")[2].partition("]")[0]
        line = f"Line {int(index) + 1}: " if index.isdigit() else ""
        raise ValidationError(f"{line}{problem[0].upper()}{problem[1:]}.") from None
