"""The pure recurrence functions behind maintenance windows, checked by properties: the
re-based expansion equals dateutil's own from the first start, and every occurrence keeps its
wall-clock start (or is moved forward by exactly the skipped hour) in zones with summer time."""

from __future__ import annotations

import time as clock
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from incidents import recurrence

ZONES = ["Europe/Warsaw", "America/New_York", "Australia/Sydney", "Asia/Kolkata"]
DAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]


@st.composite
def rules(draw: st.DrawFn) -> str:
    freq = draw(st.sampled_from(["HOURLY", "DAILY", "WEEKLY"]))
    parts = [f"FREQ={freq}", f"INTERVAL={draw(st.integers(1, 9))}"]
    if freq != "HOURLY" and draw(st.booleans()):
        hours = draw(st.lists(st.integers(0, 23), min_size=1, max_size=3, unique=True))
        parts.append("BYHOUR=" + ",".join(map(str, sorted(hours))))
    if freq == "WEEKLY" and draw(st.booleans()):
        days = draw(st.lists(st.sampled_from(DAYS), min_size=1, max_size=3, unique=True))
        parts.append("BYDAY=" + ",".join(days))
    if draw(st.booleans()):
        parts.append(f"BYMONTH={draw(st.integers(1, 12))}")
    return ";".join(parts)


starts = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2026, 1, 1)).map(
    lambda d: d.replace(second=0, microsecond=0)
)


@settings(max_examples=60, deadline=None)
@given(rule=rules(), start=starts, offset_days=st.integers(0, 400), span_hours=st.integers(1, 400))
def test_it_expands_a_rebased_rule_exactly_like_dateutil_from_the_first_start(
    rule, start, offset_days, span_hours
):
    parsed = recurrence.parse(rule, start, timedelta(minutes=30))
    low = start + timedelta(days=offset_days * 3, hours=offset_days % 24)
    high = low + timedelta(hours=span_hours)
    # dateutil walking from the first start: the reference the shortcut must agree with.
    expected = parsed.rule().between(low, high, inc=True)
    assert recurrence.local_starts(parsed, low, high) == expected


@settings(max_examples=60, deadline=None)
@given(
    zone_name=st.sampled_from(ZONES),
    start=starts,
    rule=st.sampled_from(["FREQ=DAILY", "FREQ=WEEKLY;BYDAY=SU", "FREQ=HOURLY;INTERVAL=7"]),
    year=st.integers(2026, 2030),
)
def test_it_keeps_the_wall_clock_start_or_moves_it_forward_by_the_gap(zone_name, start, rule, year):
    zone = ZoneInfo(zone_name)
    parsed = recurrence.parse(rule, start, timedelta(hours=2))
    begin = datetime(year, 1, 1, tzinfo=UTC)
    for occurrence_start, occurrence_end in recurrence.occurrences(
        parsed, zone, begin, begin + timedelta(days=366)
    ):
        assert occurrence_end - occurrence_start == timedelta(hours=2)
        wall = occurrence_start.astimezone(zone).replace(tzinfo=None)
        planned = recurrence.local_starts(parsed, wall - timedelta(hours=3), wall)
        assert planned, (occurrence_start, zone_name)
        # Either the planned wall-clock time itself, or a planned time that does not exist
        # (a skipped hour), placed with the offset before the jump: later on the wall clock.
        intended = planned[-1]
        if wall != intended:
            assert wall - intended == timedelta(hours=1)
            assert recurrence.to_utc(intended, zone) == occurrence_start
            round_trip = recurrence.to_utc(intended, zone).astimezone(zone).replace(tzinfo=None)
            assert round_trip != intended  # it really does not exist in the zone


def test_it_merges_overlapping_and_touching_intervals():
    t = datetime(2026, 1, 1, tzinfo=UTC)
    h = timedelta(hours=1)
    assert recurrence.merge([(t + 3 * h, t + 4 * h), (t, t + h), (t + h, t + 2 * h)]) == [
        (t, t + 2 * h),
        (t + 3 * h, t + 4 * h),
    ]


@pytest.mark.parametrize(
    "rule",
    [
        "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30",
        "FREQ=HOURLY;BYMONTH=4;BYMONTHDAY=31",
        "FREQ=YEARLY;INTERVAL=4;BYYEARDAY=366",
        "FREQ=MONTHLY;INTERVAL=12;BYMONTHDAY=30",  # from a February start: only Februaries
    ],
)
def test_it_refuses_a_rule_without_dates_quickly(rule):
    started = clock.monotonic()
    with pytest.raises(recurrence.RuleError, match="never produces a date"):
        recurrence.parse(rule, datetime(2026, 2, 1, 2), timedelta(hours=1))
    assert clock.monotonic() - started < 5  # dateutil alone would search until the year 9999


def test_it_accepts_sparse_but_possible_rules():
    leap_monday = recurrence.parse(
        "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO",
        datetime(2026, 1, 1, 2),
        timedelta(hours=1),
    )
    assert recurrence.next_local_starts(leap_monday, datetime(2026, 1, 1), 1) == [
        datetime(2044, 2, 29, 2)
    ]
