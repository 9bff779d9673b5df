"""A site's business hours: a weekly schedule in the site's time zone, and dates it is closed.

Pure functions over a `Schedule` (no database): `is_open(schedule, at)`, `next_opening(schedule,
at)` and `next_closing(schedule, at)`, with `at` an aware moment. Times of day are wall-clock
times in the site's zone, so "9:00 to 17:00" stays 9:00 to 17:00 across daylight saving changes:
on the day clocks go forward, an interval whose start falls in the skipped hour opens when the
clock jumps past it; on the day they go back, the repeated hour counts as open when its wall time
is within an interval.

`schedule_parse` validates what the dashboard and the site-key API are given (`ValueError`
naming the field); the site stores the same JSON shape (`Site.weekly_hours`).
"""

import itertools
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_INTERVALS_PER_DAY = 6
MAX_CLOSED_DATES = 366
# How far ahead an opening or closing is looked for: a year and a week covers every weekly
# schedule with a year of closed dates.
HORIZON_DAYS = 373
DAY_SECONDS = 24 * 3600


@dataclass(frozen=True)
class Schedule:
    time_zone: str
    # Per weekday (Monday first): intervals [start, end) in seconds since local midnight, sorted.
    weekly: tuple[tuple[tuple[int, int], ...], ...]
    closed_dates: frozenset[date] = frozenset()

    @property
    def zone(self) -> ZoneInfo:
        return _zone(self.time_zone)


@lru_cache(maxsize=512)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


@lru_cache(maxsize=1)
def time_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def time_zone_problem(name: object) -> str | None:
    if not isinstance(name, str) or name not in time_zones():
        return "an IANA time zone such as Europe/Paris or America/New_York"
    try:
        _zone(name)
    except (ZoneInfoNotFoundError, ValueError):
        return "an IANA time zone such as Europe/Paris or America/New_York"
    return None


def _clock(value: object, *, end: bool) -> int:
    """'HH:MM' as seconds since midnight; '24:00' only as an end."""
    if not isinstance(value, str) or len(value) != 5 or value[2] != ":":
        raise ValueError("a time is written HH:MM")
    hours, minutes = value[:2], value[3:]
    if not (hours.isdigit() and minutes.isdigit()):
        raise ValueError("a time is written HH:MM")
    seconds = int(hours) * 3600 + int(minutes) * 60
    if int(minutes) > 59 or seconds > DAY_SECONDS or (seconds == DAY_SECONDS and not end):
        raise ValueError(f"{value} is not a time of day")
    return seconds


def _hhmm(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"


def weekly_parse(weekly: object) -> tuple[tuple[tuple[int, int], ...], ...]:
    """`{"mon": [{"start": "09:00", "end": "17:00"}, ...], ...}` (days left out are closed)."""
    if not isinstance(weekly, dict):
        raise ValueError("weekly_hours: an object of days (mon..sun) to intervals")
    unknown = set(weekly) - set(DAYS)
    if unknown:
        raise ValueError(f"weekly_hours: unknown day {sorted(unknown)[0]!r} (mon..sun)")
    days = []
    for day in DAYS:
        intervals = weekly.get(day) or []
        if not isinstance(intervals, list) or len(intervals) > MAX_INTERVALS_PER_DAY:
            raise ValueError(f"weekly_hours.{day}: at most {MAX_INTERVALS_PER_DAY} intervals")
        parsed = []
        for interval in intervals:
            if not isinstance(interval, dict) or set(interval) != {"start", "end"}:
                raise ValueError(f"weekly_hours.{day}: each interval is {{start, end}}")
            try:
                start = _clock(interval["start"], end=False)
                end = _clock(interval["end"], end=True)
            except ValueError as error:
                raise ValueError(f"weekly_hours.{day}: {error}") from None
            if start >= end:
                raise ValueError(f"weekly_hours.{day}: {interval['start']} is not before its end")
            parsed.append((start, end))
        parsed.sort()
        for (_, end), (start, _) in itertools.pairwise(parsed):
            if start < end:
                raise ValueError(f"weekly_hours.{day}: intervals overlap")
        days.append(tuple(parsed))
    return tuple(days)


def weekly_json(weekly: tuple[tuple[tuple[int, int], ...], ...]) -> dict:
    """The stored and API shape of a parsed week: days without hours are left out."""
    return {
        day: [{"start": _hhmm(start), "end": _hhmm(end)} for start, end in intervals]
        for day, intervals in zip(DAYS, weekly, strict=True)
        if intervals
    }


def closed_dates_parse(values: object) -> frozenset[date]:
    if not isinstance(values, list | tuple) or len(values) > MAX_CLOSED_DATES:
        raise ValueError(f"closed_dates: a list of at most {MAX_CLOSED_DATES} dates")
    dates = set()
    for value in values:
        if isinstance(value, date):
            dates.add(value)
            continue
        try:
            dates.add(date.fromisoformat(value))
        except (TypeError, ValueError):
            raise ValueError(f"closed_dates: {value!r} is not a date (YYYY-MM-DD)") from None
    return frozenset(dates)


def schedule_parse(*, time_zone: object, weekly: object, closed_dates: object = ()) -> Schedule:
    problem = time_zone_problem(time_zone)
    if problem:
        raise ValueError(f"time_zone: {problem}")
    return Schedule(
        time_zone=time_zone,
        weekly=weekly_parse(weekly),
        closed_dates=closed_dates_parse(list(closed_dates)),
    )


# --- The questions ---------------------------------------------------------------------------


def is_open(schedule: Schedule, at: datetime) -> bool:
    local = at.astimezone(schedule.zone)
    if local.date() in schedule.closed_dates:
        return False
    seconds = local.hour * 3600 + local.minute * 60 + local.second
    return any(start <= seconds < end for start, end in schedule.weekly[local.weekday()])


def _moments(schedule: Schedule, day: date, seconds: int) -> list[datetime]:
    """The instants (UTC) at which the wall clock of the site's zone reaches `seconds` on `day`:
    one on most days, two in an hour repeated when clocks go back, and in an hour skipped when
    they go forward the instant of the jump."""
    zone = schedule.zone
    wall = datetime.combine(day, time()) + timedelta(seconds=seconds)
    first = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    second = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    if first.astimezone(zone).replace(tzinfo=None) == wall:
        return [first] if first == second else sorted({first, second})
    # Skipped: the wall clock goes from before `wall` (at `second`) to after it (at `first`).
    low, high = second, first
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) / 2
        if middle.astimezone(zone).replace(tzinfo=None) >= wall:
            high = middle
        else:
            low = middle
    return [high.replace(microsecond=0)]


def _next(schedule: Schedule, at: datetime, *, opening: bool) -> datetime | None:
    start_day = at.astimezone(schedule.zone).date() - timedelta(days=1)
    for offset in range(HORIZON_DAYS):
        day = start_day + timedelta(days=offset)
        found = [
            moment
            for interval in schedule.weekly[day.weekday()]
            for moment in _moments(schedule, day, interval[0 if opening else 1])
            if moment > at and is_open(schedule, moment) is opening
        ]
        if found:
            return min(found)
    return None


def next_opening(schedule: Schedule, at: datetime) -> datetime | None:
    """`at` when open then; else the next moment the site opens (UTC), None if it never does."""
    if is_open(schedule, at):
        return at
    return _next(schedule, at, opening=True)


def next_closing(schedule: Schedule, at: datetime) -> datetime | None:
    """While open: the moment it closes (UTC), None if it never does; `at` when closed."""
    if not is_open(schedule, at):
        return at
    return _next(schedule, at, opening=False)
