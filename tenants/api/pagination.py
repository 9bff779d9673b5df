"""Cursor pagination of the site-key API: `?cursor=&limit=` in, `{"data", "next"}` out.

A cursor is the last id of the previous page, signed (so it is opaque and cannot be forged into
another ordering); pages are ordered by id, so rows created meanwhile never shift a page.
"""

from typing import Annotated

from django.core import signing
from django.db.models import QuerySet
from ninja import Query, Schema
from pydantic import Field

from core.errors import BadRequest

_SALT = "parley.api.cursor"


class PageQuery(Schema):
    cursor: Annotated[str, Field(max_length=200)] | None = None
    limit: Annotated[int, Field(ge=1, le=100)] = 50


PageParams = Annotated[PageQuery, Query()]


def _after_id(cursor: str) -> int:
    try:
        after = signing.loads(cursor, salt=_SALT)
    except signing.BadSignature:
        raise BadRequest("cursor: not a cursor this API gave out") from None
    if not isinstance(after, int):
        raise BadRequest("cursor: not a cursor this API gave out")
    return after


def page(
    rows: QuerySet, params: PageQuery, *, newest_first: bool = False
) -> tuple[list, str | None]:
    """One page of `rows` by id (ascending, or descending when `newest_first`), and the cursor
    of the next page or None."""
    if params.cursor:
        after = _after_id(params.cursor)
        rows = rows.filter(pk__lt=after) if newest_first else rows.filter(pk__gt=after)
    found = list(rows.order_by("-pk" if newest_first else "pk")[: params.limit + 1])
    if len(found) <= params.limit:
        return found, None
    found = found[: params.limit]
    return found, signing.dumps(found[-1].pk, salt=_SALT)
