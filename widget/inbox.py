"""Selectors of the agents' inbox: its views (Mine, Unassigned, All open, Closed, Snoozed, one per
label), their unread counts, keyset pages of 50, and full-text search. The dashboard's list and
the site-key API's `GET /conversations` read through here. Runs in the tenant's schema.

A conversation is in the inbox once something was said in it (`last_message_at` is set): the
widget's session makes the row of its room, and nothing more. Pages follow the
`conversation_activity` index (`last_message_at DESC, id DESC` where something was said): a page
is an index range after the cursor's (last_message_at, id), however deep, and each row's extra
columns (last message, unread count, search headline) are correlated subqueries that PostgreSQL
evaluates only for the rows the LIMIT keeps. docs/PERFORMANCE.md has the figures.
"""

from dataclasses import dataclass
from datetime import datetime

from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchVector
from django.core import signing
from django.db.models import (
    BooleanField,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Replace
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from core.errors import BadRequest
from widget.hot_sql import unread_sql
from widget.models import SEARCH_CONFIG, Conversation, Label, Message, Visitor

PAGE_SIZE = 50
VIEWS = ("mine", "unassigned", "open", "closed", "snoozed")
# What ts_headline puts around a match: two private-use characters, removed from the text first,
# so that escaping the whole headline and then turning only these into <mark> is safe.
_MARK_START, _MARK_END = "\ue000", "\ue001"
_CURSOR_SALT = "parley.inbox.cursor"
_LABELS_THROUGH = Conversation.labels.through


@dataclass(frozen=True)
class InboxFilter:
    """Which conversations: a view (one of VIEWS, or None with `label_id` for a label's view,
    or None for every conversation where something was said), narrowed by site, assignee, or a
    search."""

    view: str | None = "open"
    label_id: int | None = None
    user_id: int | None = None  # whose "mine"
    site_id: int | None = None
    assignee_id: int | None = None
    unassigned: bool = False
    status: str | None = None
    snoozed: bool | None = None
    q: str = ""
    # A label's view shows open, awake conversations; the API's label filter, every status.
    any_status: bool = False


@dataclass(frozen=True)
class InboxPage:
    conversations: list[Conversation]
    next_cursor: str | None


def _awake(now: datetime) -> Q:
    return Q(snoozed_until__isnull=True) | Q(snoozed_until__lte=now)


def _view_q(view: str | None, *, user_id: int | None, now: datetime) -> Q:
    open_awake = Q(status=Conversation.Status.OPEN) & _awake(now)
    if view == "mine":
        return open_awake & Q(assignee_id=user_id)
    if view == "unassigned":
        return open_awake & Q(assignee__isnull=True)
    if view == "open":
        return open_awake
    if view == "closed":
        return Q(status=Conversation.Status.CLOSED)
    if view == "snoozed":
        return Q(status=Conversation.Status.OPEN, snoozed_until__gt=now)
    return Q()


def _has_label(label_id: int) -> Exists:
    return Exists(_LABELS_THROUGH.objects.filter(conversation_id=OuterRef("pk"), label_id=label_id))


def _search_query(q: str) -> SearchQuery:
    return SearchQuery(q, config=SEARCH_CONFIG, search_type="websearch")


def _matching_messages(q: str) -> QuerySet[Message]:
    """Messages whose words match `q` (notes included: agents search their own notes), through
    the `message_search` GIN index (the same expression as the index)."""
    # The index's own expression (widget.models: GinIndex(SearchVector("text", config=...))),
    # so the planner uses it.
    return Message.objects.annotate(words=SearchVector("text", config=SEARCH_CONFIG)).filter(
        words=_search_query(q)
    )


def _search_q(q: str) -> Q:
    visitors = Visitor.objects.filter(Q(name__icontains=q) | Q(email__icontains=q))
    return Q(pk__in=_matching_messages(q).values("conversation_id")) | Q(
        visitor_id__in=visitors.values("pk")
    )


def inbox_queryset(criteria: InboxFilter, *, now: datetime | None = None) -> QuerySet:
    """The conversations of `criteria`, unordered and without the page's extra columns."""
    now = now or timezone.now()
    rows = Conversation.objects.filter(last_message_at__isnull=False).filter(
        _view_q(criteria.view, user_id=criteria.user_id, now=now)
    )
    if criteria.label_id is not None:
        rows = rows.filter(_has_label(criteria.label_id))
        if criteria.view is None and not criteria.any_status:
            rows = rows.filter(status=Conversation.Status.OPEN).filter(_awake(now))
    if criteria.site_id is not None:
        rows = rows.filter(site_id=criteria.site_id)
    if criteria.unassigned:
        rows = rows.filter(assignee__isnull=True)
    elif criteria.assignee_id is not None:
        rows = rows.filter(assignee_id=criteria.assignee_id)
    if criteria.status:
        rows = rows.filter(status=criteria.status)
    if criteria.snoozed is True:
        rows = rows.filter(snoozed_until__gt=now)
    elif criteria.snoozed is False:
        rows = rows.filter(_awake(now))
    if criteria.q:
        rows = rows.filter(_search_q(criteria.q))
    return rows


def cursor_of(conversation: Conversation) -> str:
    return signing.dumps(
        [conversation.last_message_at.isoformat(), conversation.pk], salt=_CURSOR_SALT
    )


def _cursor_position(cursor: str) -> tuple[datetime, int]:
    try:
        stamp, pk = signing.loads(cursor, salt=_CURSOR_SALT)
        at = parse_datetime(stamp)
    except (signing.BadSignature, ValueError, TypeError):
        raise BadRequest("cursor: not a cursor Parley gave out") from None
    if at is None or not isinstance(pk, int):
        raise BadRequest("cursor: not a cursor Parley gave out")
    return at, pk


def _unread() -> RawSQL:
    """Visitor messages past the agents' read mark, counted up to UNREAD_CAP: the frames' own
    expression (`hot_sql.unread_sql`), evaluated for the page's rows only."""
    return RawSQL(unread_sql(f'"{Conversation._meta.db_table}"'), [], output_field=IntegerField())


def inbox_page(
    criteria: InboxFilter, *, cursor: str | None = None, limit: int = PAGE_SIZE
) -> InboxPage:
    """One page of the conversations, most recently active first, each with its last message
    (`last_text`, `last_author_kind`, `last_author_name`), `unread`, its labels
    (`list_labels`) and, when searching, `headline` (SafeString: escaped, matches in <mark>)."""
    rows = inbox_queryset(criteria)
    if cursor:
        at, pk = _cursor_position(cursor)
        rows = rows.filter(
            RawSQL(
                f'("{Conversation._meta.db_table}"."last_message_at", '
                f'"{Conversation._meta.db_table}"."id") < (%s, %s)',
                [at, pk],
                output_field=BooleanField(),
            )
        )
    last = Message.objects.filter(conversation=OuterRef("pk"), private=False).order_by("-id")
    rows = (
        rows.select_related("visitor", "assignee", "rating")
        .annotate(
            last_text=Subquery(last.values("text")[:1]),
            last_author_kind=Subquery(last.values("author_kind")[:1]),
            last_author_name=Subquery(last.values("author_name")[:1]),
            unread=_unread(),
        )
        .order_by(F("last_message_at").desc(), F("id").desc())
    )
    if criteria.q:
        text = Replace(Replace(F("text"), Value(_MARK_START)), Value(_MARK_END))
        hit = _matching_messages(criteria.q).filter(conversation=OuterRef("pk")).order_by("-id")
        rows = rows.annotate(
            raw_headline=Subquery(
                hit.annotate(
                    headline=SearchHeadline(
                        text,
                        _search_query(criteria.q),
                        config=SEARCH_CONFIG,
                        start_sel=_MARK_START,
                        stop_sel=_MARK_END,
                        max_words=24,
                        min_words=8,
                    )
                ).values("headline")[:1]
            )
        )
    found = list(rows[: limit + 1])
    more = len(found) > limit
    found = found[:limit]
    labels = _labels_of([conversation.pk for conversation in found])
    for conversation in found:
        conversation.list_labels = labels.get(conversation.pk, [])
        if criteria.q:
            conversation.headline = highlighted(getattr(conversation, "raw_headline", "") or "")
    return InboxPage(found, cursor_of(found[-1]) if more else None)


def _labels_of(conversation_ids: list[int]) -> dict[int, list[dict]]:
    labels: dict[int, list[dict]] = {}
    through = (
        _LABELS_THROUGH.objects.filter(conversation_id__in=conversation_ids)
        .select_related("label")
        .order_by("label__name")
    )
    for link in through:
        labels.setdefault(link.conversation_id, []).append(
            {"id": link.label.id, "name": link.label.name, "color": link.label.color}
        )
    return labels


def highlighted(headline: str) -> SafeString:
    """A ts_headline's text as HTML: everything escaped, the matches (between the private-use
    marks) in <mark>. An unpaired mark is dropped."""
    parts, inside = [], False
    for index, chunk in enumerate(headline.replace(_MARK_END, _MARK_START).split(_MARK_START)):
        if index:
            inside = not inside
        if chunk:
            parts.append(f"<mark>{escape(chunk)}</mark>" if inside else escape(chunk))
    return mark_safe("".join(parts))  # every piece of text is escaped above


def inbox_counts(*, user_id: int, now: datetime | None = None) -> dict[str, int]:
    """For each view (VIEWS, and `label:<id>` for each label), how many of its conversations
    have visitor messages the agents have not read (`Conversation.with_unread`: two of its
    columns compared). One pass over the conversations, one over the labels of those unread."""
    now = now or timezone.now()
    with_unread = Conversation.objects.filter(last_message_at__isnull=False).filter(
        Conversation.with_unread()
    )
    counts = with_unread.aggregate(
        **{view: Count("pk", filter=_view_q(view, user_id=user_id, now=now)) for view in VIEWS}
    )
    per_label = (
        _LABELS_THROUGH.objects.filter(
            conversation__in=with_unread.filter(_view_q("open", user_id=user_id, now=now))
        )
        .values("label_id")
        .annotate(total=Count("conversation_id"))
    )
    totals = {row["label_id"]: row["total"] for row in per_label}
    for label_id in Label.objects.values_list("pk", flat=True):
        counts[f"label:{label_id}"] = totals.get(label_id, 0)
    return counts
