"""Business hours (tenants.hours): open or not at a moment, the next opening and closing, in the
site's zone and across daylight saving changes; what the schedule parser refuses."""

from datetime import UTC, date, datetime

import pytest

from tenants.hours import (
    is_open,
    next_closing,
    next_opening,
    schedule_parse,
    weekly_json,
)

NINE_TO_FIVE = {
    day: [{"start": "09:00", "end": "17:00"}] for day in ("mon", "tue", "wed", "thu", "fri")
}


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def paris(weekly=None, closed=()):
    return schedule_parse(
        time_zone="Europe/Paris", weekly=weekly or NINE_TO_FIVE, closed_dates=closed
    )


def test_open_within_an_interval_of_the_local_weekday():
    schedule = paris()
    assert is_open(schedule, utc(2026, 12, 7, 8, 0))  # Monday 9:00 in Paris (UTC+1)
    assert not is_open(schedule, utc(2026, 12, 7, 7, 59))
    assert is_open(schedule, utc(2026, 12, 7, 15, 59))
    assert not is_open(schedule, utc(2026, 12, 7, 16, 0))  # 17:00: the end is not included
    assert not is_open(schedule, utc(2026, 12, 5, 12, 0))  # Saturday


def test_next_opening_over_a_weekend_and_closed_dates():
    schedule = paris(closed=["2026-12-07"])
    friday_evening = utc(2026, 12, 4, 18, 0)
    # Monday 7 December is closed: Tuesday 9:00 Paris time.
    assert next_opening(schedule, friday_evening) == utc(2026, 12, 8, 8, 0)
    assert next_closing(schedule, friday_evening) == friday_evening
    tuesday_noon = utc(2026, 12, 8, 11, 0)
    assert next_opening(schedule, tuesday_noon) == tuesday_noon
    assert next_closing(schedule, tuesday_noon) == utc(2026, 12, 8, 16, 0)


def test_the_offset_follows_summer_time():
    schedule = paris(weekly={"sun": [{"start": "09:00", "end": "17:00"}], "sat": []})
    # Clocks go forward in Paris on Sunday 29 March 2026: 9:00 is then 7:00 UTC, not 8:00.
    assert next_opening(schedule, utc(2026, 3, 28, 20, 0)) == utc(2026, 3, 29, 7, 0)
    # And back on Sunday 25 October: 9:00 is 8:00 UTC again.
    assert next_opening(schedule, utc(2026, 10, 24, 20, 0)) == utc(2026, 10, 25, 8, 0)


def test_an_interval_starting_in_the_skipped_hour_opens_when_the_clock_jumps():
    # New York, Sunday 8 March 2026: 2:00 EST becomes 3:00 EDT (7:00 UTC); 2:30 never happens.
    schedule = schedule_parse(
        time_zone="America/New_York", weekly={"sun": [{"start": "02:30", "end": "04:00"}]}
    )
    assert not is_open(schedule, utc(2026, 3, 8, 6, 59))
    assert next_opening(schedule, utc(2026, 3, 8, 5, 0)) == utc(2026, 3, 8, 7, 0)
    assert is_open(schedule, utc(2026, 3, 8, 7, 0))
    assert next_closing(schedule, utc(2026, 3, 8, 7, 0)) == utc(2026, 3, 8, 8, 0)  # 4:00 EDT


def test_the_repeated_hour_counts_twice():
    # New York, Sunday 1 November 2026: 1:00-2:00 happens in EDT, then again in EST.
    schedule = schedule_parse(
        time_zone="America/New_York", weekly={"sun": [{"start": "01:00", "end": "01:30"}]}
    )
    first = next_opening(schedule, utc(2026, 11, 1, 0, 0))
    assert first == utc(2026, 11, 1, 5, 0)  # 1:00 EDT
    assert next_closing(schedule, first) == utc(2026, 11, 1, 5, 30)
    assert next_opening(schedule, utc(2026, 11, 1, 5, 30)) == utc(2026, 11, 1, 6, 0)  # 1:00 EST


def test_hours_through_midnight_do_not_close_at_midnight():
    weekly = {
        "fri": [{"start": "20:00", "end": "24:00"}],
        "sat": [{"start": "00:00", "end": "02:00"}],
    }
    schedule = schedule_parse(time_zone="UTC", weekly=weekly)
    assert next_closing(schedule, utc(2026, 12, 4, 21, 0)) == utc(2026, 12, 5, 2, 0)
    # A closed Saturday: Friday's evening ends at midnight.
    schedule = schedule_parse(time_zone="UTC", weekly=weekly, closed_dates=["2026-12-05"])
    assert next_closing(schedule, utc(2026, 12, 4, 21, 0)) == utc(2026, 12, 5, 0, 0)


def test_never_and_always():
    never = schedule_parse(time_zone="UTC", weekly={})
    assert next_opening(never, utc(2026, 12, 4, 12, 0)) is None
    always = schedule_parse(
        time_zone="UTC",
        weekly={
            day: [{"start": "00:00", "end": "24:00"}] for day in NINE_TO_FIVE | {"sat": 0, "sun": 0}
        },
    )
    assert next_closing(always, utc(2026, 12, 4, 12, 0)) is None


def test_the_parsed_week_round_trips():
    schedule = paris(
        weekly={"mon": [{"start": "13:00", "end": "17:30"}, {"start": "08:00", "end": "12:00"}]}
    )
    assert weekly_json(schedule.weekly) == {
        "mon": [{"start": "08:00", "end": "12:00"}, {"start": "13:00", "end": "17:30"}]
    }
    assert schedule.closed_dates == frozenset()
    assert paris(closed=[date(2026, 12, 25)]).closed_dates == {date(2026, 12, 25)}


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"time_zone": "Mars/Olympus"}, "time_zone"),
        ({"weekly": {"moon": []}}, "unknown day"),
        ({"weekly": {"mon": [{"start": "9:00", "end": "17:00"}]}}, "HH:MM"),
        ({"weekly": {"mon": [{"start": "24:00", "end": "24:00"}]}}, "not a time of day"),
        ({"weekly": {"mon": [{"start": "10:00", "end": "09:00"}]}}, "not before its end"),
        (
            {
                "weekly": {
                    "mon": [{"start": "09:00", "end": "12:00"}, {"start": "11:00", "end": "13:00"}]
                }
            },
            "overlap",
        ),
        ({"weekly": {"mon": [{"start": "09:00"}]}}, "{start, end}"),
        ({"weekly": {"mon": [{"start": "09:00", "end": "09:30"}] * 7}}, "at most 6"),
        ({"weekly": []}, "weekly_hours"),
        ({"closed_dates": ["25/12/2026"]}, "closed_dates"),
        ({"closed_dates": ["2026-01-01"] * 367}, "closed_dates"),
    ],
)
def test_bad_schedules_are_refused_naming_the_field(fields, message):
    arguments = {"time_zone": "UTC", "weekly": NINE_TO_FIVE, "closed_dates": []} | fields
    with pytest.raises(ValueError, match=message) as refused:
        schedule_parse(**arguments)
    assert str(refused.value).split(":")[0].split(".")[0] in {
        "time_zone",
        "weekly_hours",
        "closed_dates",
    }
