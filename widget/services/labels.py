"""The tenant's labels (create, rename, recolour, delete); putting them on conversations is in
`widget.services.conversations`."""

import re

from django.db import IntegrityError, transaction

from core.errors import BadRequest
from widget.models import Label

COLOR_PATTERN = re.compile(r"^#[0-9a-fA-F]{6}$")
NAME_MAX = Label._meta.get_field("name").max_length


def _clean(name: str, color: str) -> tuple[str, str]:
    name = " ".join(name.split())
    if not name:
        raise BadRequest("name: a label needs a name.")
    if len(name) > NAME_MAX:
        raise BadRequest(f"name: at most {NAME_MAX} characters.")
    if "\x00" in name:
        raise BadRequest("name: no NUL characters.")
    if not COLOR_PATTERN.match(color):
        raise BadRequest("color: a colour like #2563eb.")
    return name, color.lower()


def _save(label: Label, name: str, color: str) -> Label:
    """Names are unique whatever their case: "Billing" and "billing" would be two views of the
    inbox nobody could tell apart. A refused change leaves `label` as it was."""
    taken = Label.objects.filter(name__iexact=name).exclude(pk=label.pk).exists()
    if taken:
        raise BadRequest(f"A label named “{name}” exists already.")
    label.name, label.color = name, color
    try:
        with transaction.atomic():
            label.save()
    except IntegrityError:  # created meanwhile
        raise BadRequest(f"A label named “{label.name}” exists already.") from None
    return label


def label_create(*, name: str, color: str = "#64748b") -> Label:
    return _save(Label(), *_clean(name, color))


def label_update(*, label: Label, name: str | None = None, color: str | None = None) -> Label:
    cleaned = _clean(label.name if name is None else name, label.color if color is None else color)
    return _save(label, *cleaned)


def label_delete(*, label: Label) -> None:
    """Delete the label; its conversations lose it (they stay as they are otherwise)."""
    label.delete()
