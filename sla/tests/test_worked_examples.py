"""Worked examples with known answers: the figures a client can check by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest

from sla.availability import availability
from sla.calendar import Calendar
from sla.timelines import SILENT, combine

WARSAW = ZoneInfo("Europe/Warsaw")
OUTAGE = timedelta(minutes=43, seconds=12)
BUSINESS = Calendar.business("Europe/Warsaw", opens=time(8), closes=time(16), country="PL")


def month(year: int, number: int, zone: ZoneInfo = WARSAW) -> tuple[datetime, datetime]:
    start = datetime(year, number, 1, tzinfo=zone)
    end = datetime(year + number // 12, number % 12 + 1, 1, tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def up_except(start: datetime, end: datetime, down_from: datetime, down_for: timedelta) -> list:
    """A timeline up all period but for one outage."""
    down_to = down_from + down_for
    return [(start, down_from, "up"), (down_from, down_to, "down"), (down_to, end, "up")]


def test_it_gives_99_9_for_43_min_12_s_in_a_30_day_month_under_24_7() -> None:
    start, end = month(2026, 9, ZoneInfo("UTC"))
    outage_at = datetime(2026, 9, 13, 3, 0, tzinfo=UTC)
    figures = availability(up_except(start, end, outage_at, OUTAGE), Calendar.always(), start, end)
    assert end - start == timedelta(days=30)
    assert figures.percent == Fraction(999, 10)
    assert figures.percent_display() == "99.900"
    assert figures.down == OUTAGE
    assert figures.outage_count == 1
    assert figures.longest_outage == figures.mttr == OUTAGE
    assert figures.mtbf == timedelta(days=30) - OUTAGE


def test_it_gives_100_for_the_same_outage_at_3_on_a_sunday_under_business_hours() -> None:
    start, end = month(2026, 6)
    outage_at = datetime(2026, 6, 7, 3, 0, tzinfo=WARSAW)
    assert outage_at.weekday() == 6  # a Sunday
    figures = availability(up_except(start, end, outage_at, OUTAGE), BUSINESS, start, end)
    assert figures.percent == 100
    assert figures.down == timedelta(0)
    assert figures.outage_count == 0
    # June 2026 in Poland: 22 working days less Corpus Christi (Thursday 4 June) = 21 × 8 h.
    assert figures.in_scope == timedelta(hours=21 * 8)


def test_it_counts_nothing_for_an_outage_on_1_november_under_business_hours() -> None:
    start, end = month(2027, 11)
    holiday = datetime(2027, 11, 1, 10, 0, tzinfo=WARSAW)
    working_day = datetime(2027, 11, 2, 10, 0, tzinfo=WARSAW)
    assert holiday.weekday() == 0  # a Monday: only the holiday closes it
    on_holiday = availability(
        up_except(start, end, holiday, timedelta(hours=2)), BUSINESS, start, end
    )
    assert on_holiday.down == timedelta(0)
    assert on_holiday.percent == 100
    next_day = availability(
        up_except(start, end, working_day, timedelta(hours=2)), BUSINESS, start, end
    )
    assert next_day.down == timedelta(hours=2)
    assert next_day.outage_count == 1


@pytest.mark.parametrize(
    ("exclude", "down", "excluded", "percent"),
    [
        (True, timedelta(0), timedelta(hours=2), Fraction(100)),
        (False, timedelta(hours=2), timedelta(0), Fraction(100) * (720 - 2) / 720),
    ],
)
def test_it_counts_a_maintenance_window_per_the_policy(
    exclude: bool, down: timedelta, excluded: timedelta, percent: Fraction
) -> None:
    start, end = month(2026, 9, ZoneInfo("UTC"))
    window = (datetime(2026, 9, 6, 2, tzinfo=UTC), datetime(2026, 9, 6, 4, tzinfo=UTC))
    timeline = up_except(start, end, window[0], timedelta(hours=2))
    figures = availability(
        timeline,
        Calendar.always(),
        start,
        end,
        maintenance=[window],
        exclude_maintenance=exclude,
    )
    assert (figures.down, figures.excluded, figures.percent) == (down, excluded, percent)
    assert figures.outage_count == (0 if exclude else 1)


def test_it_keeps_unknown_time_out_of_the_figure() -> None:
    start, end = month(2026, 9, ZoneInfo("UTC"))
    middle = start + timedelta(days=10)
    timeline = [(start, middle, "unknown"), (middle, end, "up")]  # first 10 days unwatched
    figures = availability(timeline, Calendar.always(), start, end)
    assert figures.unknown == timedelta(days=10)
    assert figures.up == timedelta(days=20)
    assert figures.percent == 100
    nothing = availability([], Calendar.always(), start, end)  # no monitor at all
    assert nothing.percent is None
    assert nothing.unmonitored == nothing.in_scope == timedelta(days=30)
    assert nothing.unknown == timedelta(0)


def test_it_counts_a_state_neither_up_nor_down_as_unknown() -> None:
    """Silent (a paused member, meant for combine) or any other state says nothing: unknown."""
    start, end = month(2026, 9, ZoneInfo("UTC"))
    middle = start + timedelta(days=10)
    for state in (SILENT, "paused"):
        timeline = [(start, middle, state), (middle, end, "up")]
        figures = availability(timeline, Calendar.always(), start, end)
        assert figures.unknown == timedelta(days=10)
        assert figures.down == timedelta(0) and figures.outage_count == 0
        assert figures.percent == 100


def test_it_counts_overlapping_outages_of_a_site_once() -> None:
    t0 = datetime(2026, 9, 1, tzinfo=UTC)
    hours = [t0 + timedelta(hours=h) for h in range(11)]
    home = [(hours[0], hours[2], "up"), (hours[2], hours[5], "down"), (hours[5], hours[10], "up")]
    shop = [(hours[0], hours[4], "up"), (hours[4], hours[7], "down"), (hours[7], hours[10], "up")]
    site = combine([home, shop])
    assert site == [
        (hours[0], hours[2], "up"),
        (hours[2], hours[7], "down"),
        (hours[7], hours[10], "up"),
    ]
    figures = availability(site, Calendar.always(), hours[0], hours[10])
    assert figures.down == timedelta(hours=5)
    assert figures.outage_count == 1


def test_it_makes_a_site_unknown_only_when_no_monitor_is_down() -> None:
    t0 = datetime(2026, 9, 1, tzinfo=UTC)
    t1, t2, t3 = (t0 + timedelta(hours=h) for h in (1, 2, 3))
    new = [(t2, t3, "unknown")]  # created at t2, not yet checked
    old = [(t0, t1, "up"), (t1, t3, "down")]
    assert combine([old, new]) == [(t0, t1, "up"), (t1, t3, "down")]
    assert combine([[(t0, t3, "up")], new]) == [(t0, t2, "up"), (t2, t3, "unknown")]


def test_it_places_business_hours_on_the_wall_clock_across_summer_time() -> None:
    every_day = Calendar.business(
        "Europe/Warsaw", opens=time(8), closes=time(16), weekdays=range(7)
    )
    nights = Calendar.business("Europe/Warsaw", opens=time(0), closes=time(8), weekdays=range(7))
    # Around the clock less a closed day: whole local days (28 March 2027 is Easter Sunday,
    # a Polish holiday, so a custom closed date stands in for the holidays here).
    whole_days = Calendar(time_zone="Europe/Warsaw", closed_dates=frozenset({date(2026, 12, 24)}))
    for day, change in ((datetime(2026, 10, 25), 1), (datetime(2027, 3, 28), -1)):
        start = day.replace(tzinfo=WARSAW).astimezone(UTC)
        end = (day + timedelta(days=1)).replace(tzinfo=WARSAW).astimezone(UTC)
        [(opens, closes)] = every_day.in_scope(start, end)
        assert closes - opens == timedelta(hours=8)
        assert opens.astimezone(WARSAW).hour == 8
        [(opens, closes)] = nights.in_scope(start, end)
        assert closes - opens == timedelta(hours=8 + change)
        assert whole_days.in_scope(start, end) == [(start, end)]
        assert end - start == timedelta(hours=24 + change)


def test_it_refuses_bad_input_naming_the_field() -> None:
    with pytest.raises(ValueError, match="time_zone"):
        Calendar(time_zone="Mars/Olympus")
    with pytest.raises(ValueError, match="country"):
        Calendar(country="XX")
    with pytest.raises(ValueError, match=r"hours\.monday"):
        Calendar.business("UTC", opens=time(16), closes=time(8))
    t0 = datetime(2026, 9, 1, tzinfo=UTC)
    with pytest.raises(ValueError, match="timeline"):
        availability(
            [(t0, t0 + timedelta(hours=2), "up"), (t0 + timedelta(hours=1), t0, "down")],
            Calendar.always(),
            t0,
            t0 + timedelta(days=1),
        )
    with pytest.raises(ValueError, match="maintenance"):
        availability(
            [],
            Calendar.always(),
            t0,
            t0 + timedelta(days=1),
            maintenance=[(datetime(2026, 9, 1), datetime(2026, 9, 2))],
        )
