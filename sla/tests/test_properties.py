"""Hypothesis properties of the availability engine over generated timelines."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from sitecare.lib.intervals import Interval, intersect, merge, subtract, total
from sla.availability import availability, availability_by_period
from sla.calendar import Calendar
from sla.tests.pieces import as_timeline
from sla.timelines import SILENT, StateSpan, combine

WARSAW = ZoneInfo("Europe/Warsaw")
CALENDARS = [
    Calendar.always(),
    Calendar.business("Europe/Warsaw", opens=time(8), closes=time(16), country="PL"),
    Calendar.business("Europe/Warsaw", opens=time(0), closes=time(8), weekdays=range(7)),
    Calendar(time_zone="Europe/Warsaw", country="PL"),
]
# Two Warsaw quarters, each with a summer-time change and month ends inside.
QUARTERS = [(2026, 10), (2027, 1)]
MINUTE = timedelta(minutes=1)


def local(year: int, month: int) -> datetime:
    return datetime(year + (month - 1) // 12, (month - 1) % 12 + 1, 1, tzinfo=WARSAW)


def months_of(year: int, first: int) -> list[Interval]:
    return [
        (local(year, m).astimezone(UTC), local(year, m + 1).astimezone(UTC))
        for m in range(first, first + 3)
    ]


pieces = st.lists(
    st.tuples(
        st.integers(0, 6000), st.integers(1, 30000), st.sampled_from(["up", "down", "unknown"])
    ),
    max_size=12,
)
windows = st.lists(st.tuples(st.integers(0, 140_000), st.integers(1, 600)), max_size=6)
quarters = st.sampled_from(QUARTERS)
calendars = st.sampled_from(CALENDARS)


def as_windows(origin: datetime, found: list[tuple[int, int]]) -> list[Interval]:
    return [(origin + a * MINUTE, origin + (a + n) * MINUTE) for a, n in found]


@settings(max_examples=60, deadline=None)
@given(quarters, calendars, st.lists(pieces, min_size=1, max_size=3), windows, st.booleans())
def test_it_keeps_the_figures_consistent(
    quarter: tuple[int, int],
    calendar: Calendar,
    monitors: list[list[tuple[int, int, str]]],
    found: list[tuple[int, int]],
    exclude: bool,
) -> None:
    months = months_of(*quarter)
    start, end = months[0][0], months[-1][1]
    origin = start - timedelta(days=3)
    site = combine([as_timeline(origin, p) for p in monitors])
    maintenance = as_windows(origin, found)
    whole, *_ = availability_by_period(
        site, calendar, [(start, end)], maintenance=maintenance, exclude_maintenance=exclude
    )
    by_month = availability_by_period(
        site, calendar, months, maintenance=maintenance, exclude_maintenance=exclude
    )
    # The parts of in-scope time add up, and the percentage is within bounds.
    assert whole.in_scope == (
        whole.excluded + whole.up + whole.down + whole.unknown + whole.unmonitored
    )
    if whole.ratio is not None:
        assert 0 <= whole.percent <= 100  # type: ignore[operator]
        assert (whole.percent == 100) == (whole.down == timedelta(0))
    # The months of the quarter add up to the quarter (time-weighted).
    for name in ("in_scope", "excluded", "up", "down", "unknown", "unmonitored"):
        assert sum((getattr(m, name) for m in by_month), timedelta(0)) == getattr(whole, name)
    # Downtime is down time in counted scope, nothing else: not excluded, not unknown.
    scope = calendar.in_scope(start, end)
    counted = subtract(scope, merge(maintenance)) if exclude else scope
    downs = merge((s, e) for s, e, state in site if state == "down")
    assert whole.down == total(intersect(counted, downs))
    assert sum((o.counted for o in whole.outages), timedelta(0)) == whole.down


@settings(max_examples=60, deadline=None)
@given(quarters, calendars, pieces, st.integers(0, 130_000), st.integers(1, 20_000))
def test_it_never_raises_availability_when_downtime_is_added(
    quarter: tuple[int, int],
    calendar: Calendar,
    found: list[tuple[int, int, str]],
    at: int,
    length: int,
) -> None:
    months = months_of(*quarter)
    start, end = months[0][0], months[-1][1]
    timeline = as_timeline(start, found)
    extra = [(start + at * MINUTE, start + (at + length) * MINUTE, "down")]
    before = availability(timeline, calendar, start, end)
    after = availability(combine([timeline, extra]), calendar, start, end)
    assert after.down >= before.down
    assert after.up <= before.up
    if before.ratio is not None and after.ratio is not None:
        assert after.ratio <= before.ratio


@settings(max_examples=60, deadline=None)
@given(quarters, calendars, pieces, windows)
def test_it_never_counts_excluded_or_unknown_time_as_downtime(
    quarter: tuple[int, int],
    calendar: Calendar,
    found: list[tuple[int, int, str]],
    maintenance_found: list[tuple[int, int]],
) -> None:
    months = months_of(*quarter)
    start, end = months[0][0], months[-1][1]
    timeline = as_timeline(start, found)
    maintenance = as_windows(start, maintenance_found)
    base = availability(timeline, calendar, start, end, maintenance=maintenance)
    # Down during every window: with windows excluded, nothing changes.
    down_in_windows = combine([timeline, [(s, e, "down") for s, e in merge(maintenance)]])
    worse = availability(down_in_windows, calendar, start, end, maintenance=maintenance)
    assert (worse.down, worse.up) == (base.down, base.up)
    # Unknown segments and gaps both count neither up nor down: dropping the unknown segments
    # moves their time from unknown to unmonitored and changes nothing else.
    known_only = [s for s in timeline if s[2] != "unknown"]
    same = availability(known_only, calendar, start, end, maintenance=maintenance)
    assert (same.down, same.up, same.unknown) == (base.down, base.up, timedelta(0))
    assert same.unmonitored == base.unmonitored + base.unknown
    # Counting maintenance can only add downtime, never remove it.
    counted = availability(
        timeline, calendar, start, end, maintenance=maintenance, exclude_maintenance=False
    )
    assert counted.down >= base.down


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 500), st.integers(0, 60)), max_size=8),
    st.lists(st.tuples(st.integers(0, 500), st.integers(0, 60)), max_size=8),
)
def test_it_matches_a_minute_by_minute_model_for_interval_sets(
    a_found: list[tuple[int, int]], b_found: list[tuple[int, int]]
) -> None:
    origin = datetime(2026, 10, 24, 23, tzinfo=UTC)
    a = merge(as_windows(origin, a_found))
    b = merge(as_windows(origin, b_found))

    def minutes(spans: list[Interval]) -> set[int]:
        return {m for s, e in spans for m in range((s - origin) // MINUTE, (e - origin) // MINUTE)}

    assert minutes(intersect(a, b)) == minutes(a) & minutes(b)
    assert minutes(subtract(a, b)) == minutes(a) - minutes(b)
    assert total(intersect(a, b)) == len(minutes(a) & minutes(b)) * MINUTE
    assert intersect(a, b) == merge(intersect(a, b))  # the result is a span list again
    assert subtract(a, b) == merge(subtract(a, b))


silent_pieces = st.lists(
    st.tuples(
        st.integers(0, 6000),
        st.integers(1, 30000),
        st.sampled_from(["up", "down", "unknown", SILENT]),
    ),
    max_size=5,
)


def state_at(timeline: list[StateSpan], moment: datetime) -> str | None:
    return next((state for s, e, state in timeline if s <= moment < e), None)


@settings(max_examples=200, deadline=None)
@given(st.lists(silent_pieces, min_size=1, max_size=4), st.integers(0, 200_000))
def test_it_lets_a_silent_monitor_yield_to_every_monitor_that_says_something(members, probe):
    """At any moment the site is down, unknown or up as its members that are not silent say;
    unknown when all members there are silent; never "silent" itself."""
    origin = datetime(2026, 1, 1, tzinfo=UTC)
    timelines = [as_timeline(origin, p) for p in members]
    site = combine(timelines)
    assert all(state != SILENT for _s, _e, state in site)
    moment = origin + probe * MINUTE
    states = [state_at(t, moment) for t in timelines]
    present = [s for s in states if s is not None]
    speaking = [s for s in present if s != SILENT]
    if not present:
        expected = None
    elif not speaking:
        expected = "unknown"
    else:
        expected = next(s for s in ("down", "unknown", "up") if s in speaking)
    assert state_at(site, moment) == expected
