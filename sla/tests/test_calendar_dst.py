"""Business hours across summer-time changes: one rule for every gap and repeated hour.

An opening or closing time is the first moment the clocks read it or later: a time the
spring-forward change skips is the first moment after the gap, a time the autumn change
repeats is its first occurrence (``sla.calendar.wall_clock_moment``).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from sla.calendar import Calendar, wall_clock_moment

WARSAW = ZoneInfo("Europe/Warsaw")
SPRING = date(2026, 3, 29)  # a Sunday: 02:00 CET → 03:00 CEST
AUTUMN = date(2026, 10, 25)  # a Sunday: 03:00 CEST → 02:00 CET, 02:00–03:00 twice
MINUTE = timedelta(minutes=1)


def sundays(opens: time, closes: time, *, zone: str = "Europe/Warsaw") -> Calendar:
    return Calendar.business(zone, opens=opens, closes=closes, weekdays=[6])


def spans_of(calendar: Calendar, day: date) -> list[tuple[datetime, datetime]]:
    """The calendar's counted time from the day before to the day after, in UTC."""
    start = datetime.combine(day - timedelta(days=1), time(12), tzinfo=UTC)
    return calendar.in_scope(start, start + timedelta(days=2))


def spans(*readings: str) -> list[tuple[datetime, datetime]]:
    """Spans from pairs of local readings with their offset: "2026-03-29 03:00+02"."""
    moments = [datetime.fromisoformat(f"{reading}:00").astimezone(UTC) for reading in readings]
    return list(zip(moments[::2], moments[1::2], strict=True))


CLOSED_SPRING = Calendar(time_zone="Europe/Warsaw", closed_dates=frozenset({SPRING}))
CLOSED_AUTUMN = Calendar(time_zone="Europe/Warsaw", closed_dates=frozenset({AUTUMN}))
HOLIDAYS = Calendar.business(
    "Europe/Warsaw", opens=time(2, 30), closes=time(5), weekdays=[6], country="PL"
)
EASTER = date(2027, 3, 28)  # a Polish holiday, and the spring-forward Sunday
# (case, calendar, day, the counted spans from noon (UTC) the day before to noon the day after)
CASES = [
    # The issue's cases: hours that begin in the gap start when it ends; hours that end in it
    # end when it ends.
    ("start in gap", sundays(time(2, 30), time(5)), SPRING,
     spans("2026-03-29 03:00+02", "2026-03-29 05:00+02")),
    ("end in gap", sundays(time(0), time(2, 30)), SPRING,
     spans("2026-03-29 00:00+01", "2026-03-29 03:00+02")),
    ("both in gap", sundays(time(2, 10), time(2, 50)), SPRING, []),
    ("the whole gap", sundays(time(2), time(3)), SPRING, []),
    ("across the gap", sundays(time(1), time(4)), SPRING,
     spans("2026-03-29 01:00+01", "2026-03-29 04:00+02")),
    ("ends as the gap begins", sundays(time(0), time(2)), SPRING,
     spans("2026-03-29 00:00+01", "2026-03-29 02:00+01")),
    ("to midnight", sundays(time(0), time(0)), SPRING,
     spans("2026-03-29 00:00+01", "2026-03-30 00:00+02")),
    # The repeated hour: its first occurrence, for an opening and a closing time alike.
    ("start in repeated hour", sundays(time(2, 30), time(5)), AUTUMN,
     spans("2026-10-25 02:30+02", "2026-10-25 05:00+01")),
    ("end in repeated hour", sundays(time(0), time(2, 30)), AUTUMN,
     spans("2026-10-25 00:00+02", "2026-10-25 02:30+02")),
    ("both in repeated hour", sundays(time(2, 10), time(2, 50)), AUTUMN,
     spans("2026-10-25 02:10+02", "2026-10-25 02:50+02")),
    ("across the repeated hour", sundays(time(1), time(4)), AUTUMN,
     spans("2026-10-25 01:00+02", "2026-10-25 04:00+01")),
    ("to midnight, autumn", sundays(time(20), time(0)), AUTUMN,
     spans("2026-10-25 20:00+01", "2026-10-26 00:00+01")),
    # Closed days are whole local days: 23 hours in spring, 25 in autumn.
    ("closed day, spring", CLOSED_SPRING, SPRING,
     spans("2026-03-28 13:00+01", "2026-03-29 00:00+01",
           "2026-03-30 00:00+02", "2026-03-30 14:00+02")),
    ("closed day, autumn", CLOSED_AUTUMN, AUTUMN,
     spans("2026-10-24 14:00+02", "2026-10-25 00:00+02",
           "2026-10-26 00:00+01", "2026-10-26 13:00+01")),
    # A holiday closes hours that begin in the gap as any other; a week later they count.
    ("holiday", HOLIDAYS, EASTER, []),
    ("a week after the holiday", HOLIDAYS, EASTER + timedelta(days=7),
     spans("2027-04-04 02:30+02", "2027-04-04 05:00+02")),
]  # fmt: skip


def test_it_places_every_gap_repeated_hour_and_closed_day_by_one_rule() -> None:
    wrong = []
    for case, calendar, day, expected in CASES:
        found = spans_of(calendar, day)
        if found != expected:
            wrong.append(f"{case}: {found} != {expected}")
    assert not wrong, "\n".join(wrong)


def test_it_runs_the_issues_sunday_hours_as_the_clocks_say() -> None:
    [(opens, closes)] = spans_of(sundays(time(2, 30), time(5)), SPRING)
    assert (opens.astimezone(WARSAW).time(), closes.astimezone(WARSAW).time()) == (time(3), time(5))
    assert closes - opens == timedelta(hours=2)
    [(opens, closes)] = spans_of(sundays(time(0), time(2, 30)), SPRING)
    assert closes.astimezone(WARSAW).time() == time(3)
    assert closes - opens == timedelta(hours=2)  # 00:00 CET to 03:00 CEST


def test_it_moves_a_skipped_half_hour_to_the_end_of_a_half_hour_gap() -> None:
    # Lord Howe Island moves its clocks by 30 minutes: 02:00 → 02:30 on 4 October 2026.
    lord_howe = ZoneInfo("Australia/Lord_Howe")
    change = datetime(2026, 10, 4, 2, 30, tzinfo=lord_howe)
    assert wall_clock_moment(datetime(2026, 10, 4, 2, 15), lord_howe) == change
    [(opens, _closes)] = spans_of(
        sundays(time(2, 15), time(5), zone="Australia/Lord_Howe"), date(2026, 10, 4)
    )
    assert opens == change


# --- the rule as a property: a brute-force reading of the clocks ------------------------------

# Zones whose changes differ: Warsaw (an hour at 02:00/03:00), Lord Howe (half an hour),
# Santiago (at midnight), New York (an hour at 02:00, west of UTC).
CHANGE_DAYS = [
    ("Europe/Warsaw", SPRING),
    ("Europe/Warsaw", AUTUMN),
    ("Australia/Lord_Howe", date(2026, 10, 4)),
    ("Australia/Lord_Howe", date(2026, 4, 5)),
    ("America/Santiago", date(2026, 9, 6)),
    ("America/Santiago", date(2026, 4, 5)),
    ("America/New_York", date(2026, 3, 8)),
    ("America/New_York", date(2026, 11, 1)),
]
minutes = st.integers(0, 24 * 60 - 1)


def first_reading(zone: ZoneInfo, wanted: datetime, around: datetime) -> datetime:
    """The first whole minute from ``around`` (two days earlier) whose clock reads ``wanted``
    or later: every change here happens on a whole minute."""
    moment = around
    while moment.astimezone(zone).replace(tzinfo=None) < wanted:
        moment += MINUTE
    return moment


@settings(max_examples=120, deadline=None)
@given(st.sampled_from(CHANGE_DAYS), minutes, minutes)
def test_it_opens_and_closes_at_the_first_moment_the_clocks_read_the_hours(
    change: tuple[str, date], a: int, b: int
) -> None:
    time_zone, day = change
    zone = ZoneInfo(time_zone)
    opens = time(min(a, b) // 60, min(a, b) % 60)
    closes = time(max(a, b) // 60, max(a, b) % 60) if a != b else time(0)  # 00:00: midnight
    weekday = day.weekday()
    calendar = Calendar.business(time_zone, opens=opens, closes=closes, weekdays=[weekday])
    around = datetime.combine(day - timedelta(days=1), time(0), tzinfo=UTC)
    begins = first_reading(zone, datetime.combine(day, opens), around)
    ends_on = day + timedelta(days=1) if closes == time(0) else day
    ends = first_reading(zone, datetime.combine(ends_on, closes), around)
    expected = [(begins, ends)] if begins < ends else []
    assert calendar.in_scope(around, around + timedelta(days=3)) == expected
