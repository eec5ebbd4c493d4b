"""Availability of a monitor or a site over any period: pure functions over state timelines.

A *timeline* is plain data: ``(start, end, state)`` segments, state ``up``, ``down`` or
``unknown`` (``MonitorState`` values; anything else counts as unknown), in time order, not
overlapping. Time no segment covers is a *gap*: the monitor did not exist yet or nobody
watched it.

Over a period ``[start, end)`` and a calendar:

- *in scope*: the calendar's counted time in the period;
- *excluded*: in-scope time inside maintenance windows, when the plan excludes them (when it
  does not, window time is counted like any other and ``excluded`` is zero);
- *counted*: in scope and not excluded; it splits exactly into *up*, *down* and *unknown*
  (unknown state or a gap: never counted as up or as down);
- *availability* = up / (up + down), an exact fraction; None when no counted time is known
  (up + down = 0), so a figure is never invented. It is exactly 100 % when there is no
  downtime and some up time. Percentages are rounded only for display, and down (toward
  0 %), so a displayed figure never claims a target that was missed.
- *outage*: a maximal run of down segments (touching down segments are one outage) that
  has some counted downtime; its ``counted`` part is what the SLA charges. *Longest outage*
  is the largest counted part; MTTR = down / outages; MTBF = up / outages (mean counted up
  time per failure); both None without outages.

A site's timeline (:func:`combine`): down while any of its (critical) monitors is down;
otherwise unknown while any is unknown; otherwise up while any is up; a gap where none has a
segment. A monitor that does not exist yet is a gap, not unknown, so adding a monitor in
mid-month does not blank the site's earlier days. Overlapping outages of several monitors
are one stretch of site downtime, never counted twice.

Up, down, unknown, excluded and in-scope time are additive over consecutive periods (every
figure is an intersection with the period), so the months of a quarter sum to the quarter;
outage counts are not (an outage across midnight of the 1st is in both months).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_FLOOR, Decimal
from fractions import Fraction

from monitoring.models import MonitorState
from sla.calendar import Calendar
from sla.intervals import ZERO, Interval, check, clip, intersect, merge, subtract, total

StateSpan = tuple[datetime, datetime, str]
_STATES: tuple[str, ...] = (MonitorState.DOWN, MonitorState.UNKNOWN, MonitorState.UP)


@dataclass(frozen=True)
class Outage:
    """One stretch of downtime (within the period) and the part of it the SLA counts."""

    start: datetime
    end: datetime
    counted: timedelta


@dataclass(frozen=True)
class Availability:
    """The SLA figures of one period; ``in_scope = excluded + up + down + unknown``."""

    start: datetime
    end: datetime
    in_scope: timedelta
    excluded: timedelta
    up: timedelta
    down: timedelta
    unknown: timedelta
    outages: tuple[Outage, ...]

    @property
    def known(self) -> timedelta:
        return self.up + self.down

    @property
    def ratio(self) -> Fraction | None:
        """up / (up + down), exact; None when no counted time is known."""
        known = _micros(self.known)
        if known == 0:
            return None
        return Fraction(_micros(self.up), known)

    @property
    def percent(self) -> Fraction | None:
        ratio = self.ratio
        return None if ratio is None else ratio * 100

    def percent_display(self, places: int = 3) -> str | None:
        """The percentage rounded down to ``places`` decimals, for people ("99.900")."""
        percent = self.percent
        if percent is None:
            return None
        exact = Decimal(percent.numerator) / Decimal(percent.denominator)
        return str(exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_FLOOR))

    @property
    def outage_count(self) -> int:
        return len(self.outages)

    @property
    def longest_outage(self) -> timedelta:
        return max((o.counted for o in self.outages), default=ZERO)

    @property
    def mttr(self) -> timedelta | None:
        """Mean time to repair: counted downtime per outage."""
        return self.down / len(self.outages) if self.outages else None

    @property
    def mtbf(self) -> timedelta | None:
        """Mean time between failures: counted up time per outage."""
        return self.up / len(self.outages) if self.outages else None


def availability(
    timeline: Sequence[StateSpan],
    calendar: Calendar,
    start: datetime,
    end: datetime,
    *,
    maintenance: Iterable[Interval] = (),
    exclude_maintenance: bool = True,
) -> Availability:
    """The figures of one period (see the module's docstring for the definitions)."""
    return availability_by_period(
        timeline,
        calendar,
        [(start, end)],
        maintenance=maintenance,
        exclude_maintenance=exclude_maintenance,
    )[0]


def availability_by_period(
    timeline: Sequence[StateSpan],
    calendar: Calendar,
    periods: Sequence[Interval],
    *,
    maintenance: Iterable[Interval] = (),
    exclude_maintenance: bool = True,
) -> list[Availability]:
    """The figures of several periods (e.g. the months of a year) from one timeline.

    1. Check and split the timeline once into merged up and down span lists.
    2. Per period: in-scope time from the calendar, less maintenance if excluded.
    3. Intersect the counted time with up and down; the rest of it is unknown.
    4. Attribute counted downtime to the down runs it lies in: the outages.
    """
    ups, downs = _split(timeline)
    windows = merge(check(maintenance, name="maintenance"))
    results = []
    for start, end in check(periods, name="periods"):
        scope = calendar.in_scope(start, end)
        excluded = intersect(scope, clip(windows, start, end)) if exclude_maintenance else []
        counted = subtract(scope, excluded) if excluded else scope
        up = intersect(counted, _around(ups, start, end))
        runs = clip(_around(downs, start, end), start, end)
        down = intersect(counted, runs)
        up_time, down_time = total(up), total(down)
        results.append(
            Availability(
                start=start,
                end=end,
                in_scope=total(scope),
                excluded=total(excluded),
                up=up_time,
                down=down_time,
                unknown=total(counted) - up_time - down_time,
                outages=_outages(runs, down),
            )
        )
    return results


def combine(timelines: Sequence[Sequence[StateSpan]]) -> list[StateSpan]:
    """One site timeline from its monitors' timelines (down > unknown > up > gap).

    1. Record, at every segment boundary, how many members enter or leave each state.
    2. Sweep the boundaries in order, keeping the count of members in each state.
    3. Between two boundaries the site is in the first state (down, unknown, up) any member
       is in; join touching pieces in the same state.
    """
    events: list[tuple[datetime, int, int]] = []
    for segments in timelines:
        for seg_start, seg_end, state in _checked(segments):
            index = _STATES.index(_normal(state))
            events.append((seg_start, index, 1))
            events.append((seg_end, index, -1))
    events.sort(key=lambda event: event[0])
    counts = [0, 0, 0]
    combined: list[StateSpan] = []
    for i, (here, index, delta) in enumerate(events):
        counts[index] += delta
        if i + 1 == len(events) or events[i + 1][0] == here:
            continue  # apply every change at this moment before reading the state
        after = events[i + 1][0]
        site_state = _STATES[0] if counts[0] else _STATES[1] if counts[1] else _STATES[2]
        if not any(counts):
            continue
        if combined and combined[-1][1] == here and combined[-1][2] == site_state:
            combined[-1] = (combined[-1][0], after, site_state)
        else:
            combined.append((here, after, site_state))
    return combined


def _normal(state: str) -> str:
    return state if state in (MonitorState.UP, MonitorState.DOWN) else MonitorState.UNKNOWN


def _checked(timeline: Sequence[StateSpan]) -> Sequence[StateSpan]:
    """The timeline, or ``ValueError`` naming it when segments are reversed, naive or overlap."""
    previous_end: datetime | None = None
    for seg_start, seg_end, _state in timeline:
        check([(seg_start, seg_end)], name="timeline")
        if previous_end is not None and seg_start < previous_end:
            raise ValueError(f"timeline: segment at {seg_start} overlaps the one before it")
        previous_end = seg_end
    return timeline


def _split(timeline: Sequence[StateSpan]) -> tuple[list[Interval], list[Interval]]:
    """The up and the down time of a timeline, as two span lists."""
    ups: list[Interval] = []
    downs: list[Interval] = []
    for seg_start, seg_end, state in _checked(timeline):
        if state == MonitorState.UP:
            ups.append((seg_start, seg_end))
        elif state == MonitorState.DOWN:
            downs.append((seg_start, seg_end))
    return merge(ups), merge(downs)


def _around(spans: list[Interval], start: datetime, end: datetime) -> list[Interval]:
    """The spans overlapping ``[start, end)``, found by bisection (the list is sorted)."""
    first = bisect.bisect_right(spans, start, key=lambda span: span[1])
    last = bisect.bisect_left(spans, end, lo=first, key=lambda span: span[0])
    return spans[first:last]


def _outages(runs: list[Interval], down: list[Interval]) -> tuple[Outage, ...]:
    """The down runs with counted downtime, each with its counted part (pieces lie in runs)."""
    counted: list[timedelta] = [ZERO] * len(runs)
    i = 0
    for piece_start, piece_end in down:
        while runs[i][1] <= piece_start:
            i += 1
        counted[i] += piece_end - piece_start
    return tuple(
        Outage(run[0], run[1], part) for run, part in zip(runs, counted, strict=True) if part
    )


def _micros(duration: timedelta) -> int:
    return (duration.days * 86_400 + duration.seconds) * 1_000_000 + duration.microseconds
