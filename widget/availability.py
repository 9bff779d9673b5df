"""What a visitor is told of who will answer and when: the agents' presence aggregated for the
tenant (online, away, offline), the tenant's measured reply time, and the site's business hours
(PROTOCOL.md, Status).

Presence: `widget.presence` knows which members have an agent socket open in any process; of
those, the ones not switched "Away" (`accounts`) are online. Online if any is, away if only away
members are connected, offline if nobody is. Read on every session start and socket `ready`, so
it is cached per tenant for `AGENTS_STATE_SECONDS`, and dropped in this process at every change
it sees (`presence_announce`); the visitors' sockets are told each change live by a `presence`
frame.

Reply time: the median, over the tenant's latest `REPLY_SAMPLE` conversations of the last
`REPLY_WINDOW`, of the time from a conversation's first visitor message to its first agent
answer (a private note is no answer). One query of at most `REPLY_SAMPLE` conversations, cached
per tenant for `REPLY_CACHE_SECONDS`: never a scan per connect.

Everything here runs inside the tenant's schema (`schema_context` or `core.db_thread.in_tenant`).
"""

import math
import statistics
from datetime import UTC, datetime, timedelta

from django.db.models import Min, OuterRef, Q, Subquery
from django.utils import timezone

from accounts.selectors import members_available
from core.caches import ProcessCache
from tenants import hours
from tenants.site_directory import SiteInfo
from widget import events, frames, presence
from widget.models import Conversation, Message

AGENTS_STATE_SECONDS = 5
REPLY_CACHE_SECONDS = 600
REPLY_SAMPLE = 200
REPLY_WINDOW = timedelta(days=30)
# Fewer answered conversations than this say nothing a visitor should rely on.
REPLY_MIN_SAMPLES = 3

_agents_state: ProcessCache[int, frames.AgentsState] = ProcessCache(
    "agents-state", maxsize=10_000, ttl=AGENTS_STATE_SECONDS
)
_reply_minutes: ProcessCache[int, int | None] = ProcessCache(
    "reply-minutes", maxsize=10_000, ttl=REPLY_CACHE_SECONDS
)
# A schedule -> (computed at, open, changes at): the site's hours, valid until they change.
_hours: ProcessCache[hours.Schedule, tuple] = ProcessCache("site-hours", maxsize=10_000, ttl=3600)


def _agents_state_now(tenant_id: int) -> frames.AgentsState:
    connected = presence.agents_online_ids(tenant_id)
    if not connected:
        return "offline"
    return "online" if members_available(member_ids=connected) else "away"


def agents_state(*, tenant_id: int) -> frames.AgentsState:
    """Online (a connected member not away), away (only away members connected) or offline."""
    return _agents_state.get_or_load(tenant_id, lambda: _agents_state_now(tenant_id))


def _first(author_kind: str, **extra) -> Subquery:
    return Subquery(
        Message.objects.filter(conversation=OuterRef("pk"), author_kind=author_kind, **extra)
        .order_by()
        .values("conversation")
        .annotate(first=Min("created_at"))
        .values("first")[:1]
    )


def _reply_minutes_now() -> int | None:
    since = timezone.now() - REPLY_WINDOW
    recent = (
        Conversation.objects.filter(Q(last_message_at__gte=since), visitor__isnull=False)
        .annotate(asked=_first("visitor"), answered=_first("agent", private=False))
        .filter(asked__isnull=False, answered__isnull=False)
        .order_by("-last_message_at")
        .values_list("asked", "answered")[:REPLY_SAMPLE]
    )
    waits = [(answered - asked).total_seconds() for asked, answered in recent if answered >= asked]
    if len(waits) < REPLY_MIN_SAMPLES:
        return None
    return max(1, math.ceil(statistics.median(waits) / 60))


def reply_minutes(*, tenant_id: int) -> int | None:
    """The tenant's median first reply time in whole minutes (at least 1), or None."""
    return _reply_minutes.get_or_load(tenant_id, _reply_minutes_now)


def presence_frame(*, tenant_id: int) -> frames.PresenceOut:
    return frames.presence(
        agents=agents_state(tenant_id=tenant_id), reply_minutes=reply_minutes(tenant_id=tenant_id)
    )


def presence_announce(*, tenant_id: int) -> None:
    """An agent connected, left, or switched "Away": read the presence afresh and tell every
    visitor socket of the tenant, on every worker. A widget ignores a state it shows already."""
    _agents_state.pop(tenant_id)
    events.publish_presence(tenant_id, presence_frame(tenant_id=tenant_id))


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat() if moment else None


def site_status(*, site: SiteInfo, now: datetime | None = None) -> frames.StatusOut:
    """The status a site's widget shows: the tenant's agents and reply time, and whether the
    site is within its business hours, with when that next changes."""
    now = now or timezone.now()
    is_open, changes_at = (True, None) if site.schedule is None else _hours_at(site.schedule, now)
    return {
        "agents": agents_state(tenant_id=site.tenant_id),
        "reply_minutes": reply_minutes(tenant_id=site.tenant_id),
        "open": is_open,
        "changes_at": _iso(changes_at),
        "next_opening": None if is_open else _iso(changes_at),
    }


def _hours_at(schedule: hours.Schedule, now: datetime) -> tuple[bool, datetime | None]:
    """(open, when that changes) at `now`. Nothing changes before `changes_at`, so an answer is
    reused until then (a 24/7 schedule's closing is a year's scan: about 4 ms, not per connect)."""
    cached = _hours.get(schedule)
    if cached is not None:
        computed_at, is_open, changes_at = cached
        if computed_at <= now and (changes_at is None or now < changes_at):
            return is_open, changes_at
    opening = hours.next_opening(schedule, now)
    is_open = opening == now
    changes_at = hours.next_closing(schedule, now) if is_open else opening
    _hours.set(schedule, (now, is_open, changes_at))
    return is_open, changes_at
