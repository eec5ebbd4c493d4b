"""Availability of a monitor or a site over any period: pure functions over state timelines.

A *timeline* (:mod:`sla.timelines`, where a site's is made of its monitors') is plain data:
``(start, end, state)`` segments, state ``up``, ``down`` or ``unknown`` (anything else counts
as unknown), in time order, not overlapping. Time no segment covers is a *gap*: no monitor
existed yet (or, past the last segment, the time has not come yet).

Over a period ``[start, end)`` and a calendar:

- *in scope*: the calendar's counted time in the period;
- *excluded*: in-scope time inside maintenance windows, when the plan excludes them (when it
  does not, window time is counted like any other and ``excluded`` is zero);
- *counted*: in scope and not excluded; it splits exactly into *up*, *down*, *unknown*
  (a segment in the unknown state: not checked yet, the engine not running, a check that
  could not be made), *unmonitored* (a gap: no monitor existed) and *to come* (a gap after
  ``known_until``, the rest of a running period); none of the last three is ever counted as
  up or as down;
- *availability* = up / (up + down), an exact fraction; None when no counted time is known
  (up + down = 0), so a figure is never invented. It is exactly 100 % when there is no
  downtime and some up time. Percentages are rounded only for display, and down (toward
  0 %), so a displayed figure never claims a target that was missed. A plan's unknown-time
  policy (``unknown_time``) may instead count unknown time as up or as down: the figure is
  then made of the *judged* up and down time (up or down plus unknown), while ``up``,
  ``down`` and ``unknown`` stay what was recorded, and outages stay the recorded ones.
- *outage*: a maximal run of down segments (touching down segments are one outage) that
  has some counted downtime; its ``counted`` part is what the SLA charges. *Longest outage*
  is the largest counted part; MTTR = down / outages; MTBF = up / outages (mean counted up
  time per failure); both None without outages.

Up, down, unknown, unmonitored, excluded and in-scope time are additive over consecutive
periods (every figure is an intersection with the period), so the months of a quarter sum to
the quarter; outage counts are not (an outage across midnight of the 1st is in both months).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_FLOOR, Decimal
from fractions import Fraction

from monitoring.models import MonitorState
from sitecare.lib.intervals import ZERO, Interval, check, merge
from sla.calendar import Calendar
from sla.microspans import (
    EPOCH,
    Micros,
    as_micros,
    bounds,
    intersect,
    length,
    micros,
    overlap,
    overlap_by_run,
    subtract,
    within,
)
from sla.models import UnknownTime
from sla.timelines import StateSpan, checked

# Plain strings, as the timelines hold them (see sla.timelines).
_DOWN, _UP = MonitorState.DOWN.value, MonitorState.UP.value


@dataclass(frozen=True)
class Outage:
    """One stretch of downtime (within the period) and the part of it the SLA counts."""

    start: datetime
    end: datetime
    counted: timedelta


@dataclass(frozen=True)
class Availability:
    """The SLA figures of one period;
    ``in_scope = excluded + up + down + unknown + unmonitored + to_come``.

    ``unknown`` is time a monitor existed but its state was not known (not checked yet, the
    engine not running, a check that could not be made); ``unmonitored`` is time no monitor
    existed (a gap: before the first one was created); ``to_come`` is the counted time after
    the moment the figures were known until (the rest of a running month): not lived yet.
    """

    start: datetime
    end: datetime
    in_scope: timedelta
    excluded: timedelta
    up: timedelta
    down: timedelta
    unknown: timedelta
    outages: tuple[Outage, ...]
    to_come: timedelta = ZERO
    unmonitored: timedelta = ZERO
    unknown_time: str = UnknownTime.EXCLUDED.value  # how the figure counts unknown time

    @property
    def known(self) -> timedelta:
        return self.up + self.down

    @property
    def judged_up(self) -> timedelta:
        """The up time the figure counts: up, and unknown time when the plan counts it as up."""
        return self.up + self.unknown if self.unknown_time == UnknownTime.UP else self.up

    @property
    def judged_down(self) -> timedelta:
        """The downtime the figure counts: down, and unknown time when the plan counts it so."""
        return self.down + self.unknown if self.unknown_time == UnknownTime.DOWN else self.down

    @property
    def ratio(self) -> Fraction | None:
        """judged up / (judged up + judged down), exact; None when nothing is counted."""
        up = micros(self.judged_up)
        judged = up + micros(self.judged_down)
        if judged == 0:
            return None
        return Fraction(up, judged)

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
    known_until: datetime | None = None,
    unknown_time: str = UnknownTime.EXCLUDED,
) -> Availability:
    """The figures of one period (see the module's docstring for the definitions)."""
    return availability_by_period(
        timeline,
        calendar,
        [(start, end)],
        maintenance=maintenance,
        exclude_maintenance=exclude_maintenance,
        known_until=known_until,
        unknown_time=unknown_time,
    )[0]


def availability_by_period(
    timeline: Sequence[StateSpan],
    calendar: Calendar,
    periods: Sequence[Interval],
    *,
    maintenance: Iterable[Interval] = (),
    exclude_maintenance: bool = True,
    known_until: datetime | None = None,
    unknown_time: str = UnknownTime.EXCLUDED,
) -> list[Availability]:
    """The figures of several periods (e.g. the months of a year) from one timeline.

    1. Check and split the timeline once into merged up and down span lists, and turn them
       into integer microseconds (exact, and cheaper to add up than timedeltas).
    2. Per period: in-scope time from the calendar (cached per calendar and period), less
       maintenance if excluded.
    3. Intersect the counted time with up and down; the rest of it is unknown.
    4. Attribute counted downtime to the down runs it lies in: the outages.
    5. Counted time after ``known_until`` (now, for a running period) is *to come*, not
       unknown: the timeline cannot know it yet.
    6. The figure counts unknown time as ``unknown_time`` (a ``UnknownTime`` value) says.
    """
    policy = UnknownTime(unknown_time).value
    up_us, downs, down_us, covered = _split(timeline)
    windows = as_micros(merge(check(maintenance, name="maintenance")))
    results = []
    for start, end in check(periods, name="periods"):
        low, high = micros(start - EPOCH), micros(end - EPOCH)
        scope = _scope(calendar, start, end)
        excluded: list[tuple[int, int]] = []
        # ``scope`` lies within the period, so the spans it meets need no clipping.
        if exclude_maintenance and windows:
            excluded = intersect(scope, within(windows, low, high))
        counted = subtract(scope, excluded) if excluded else scope
        up_time = overlap(counted, within(up_us, low, high))
        first, last = bounds(down_us, low, high)
        parts = overlap_by_run(counted, down_us[first:last])
        down_time = sum(parts)
        counted_time = length(counted)
        watched = within(covered, low, high)
        covered_time = overlap(counted, watched)
        to_come = 0
        if known_until is not None:
            known_us = micros(known_until - EPOCH)
            if known_us < high:
                ahead = intersect(counted, [(max(known_us, low), high)])
                to_come = length(ahead) - overlap(ahead, watched)
        outages = tuple(
            Outage(
                downs[first + i][0] if down_us[first + i][0] >= low else start,
                downs[first + i][1] if down_us[first + i][1] <= high else end,
                timedelta(microseconds=part),
            )
            for i, part in enumerate(parts)
            if part
        )
        results.append(
            Availability(
                start=start,
                end=end,
                in_scope=timedelta(microseconds=length(scope)),
                excluded=timedelta(microseconds=length(excluded)),
                up=timedelta(microseconds=up_time),
                down=timedelta(microseconds=down_time),
                unknown=timedelta(microseconds=covered_time - up_time - down_time),
                unmonitored=timedelta(microseconds=counted_time - covered_time - to_come),
                outages=outages,
                to_come=timedelta(microseconds=to_come),
                unknown_time=policy,
            )
        )
    return results


def _split(
    timeline: Sequence[StateSpan],
) -> tuple[list[Micros], list[Interval], list[Micros], list[Micros]]:
    """The up time (in microseconds), the down time (also as datetimes) and the time any
    segment covers (in microseconds) of a timeline.

    The checked timeline is in order and has no overlaps, so one pass joins touching pieces
    (as ``merge`` would); a boundary two segments share is converted once.
    """
    up_us: list[Micros] = []
    downs: list[Interval] = []
    down_us: list[Micros] = []
    covered: list[Micros] = []
    cover_start = cover_end = -1  # the covered run being extended (no tuple per segment)
    previous_end: datetime | None = None
    previous_us = 0
    for seg_start, seg_end, state in checked(timeline):
        if not seg_start < seg_end:
            continue
        start_us = previous_us if seg_start is previous_end else micros(seg_start - EPOCH)
        end_us = micros(seg_end - EPOCH)
        previous_end, previous_us = seg_end, end_us
        if start_us > cover_end:
            if cover_end >= 0:
                covered.append((cover_start, cover_end))
            cover_start = start_us
        cover_end = end_us
        if state == _UP:
            if up_us and start_us <= up_us[-1][1]:
                up_us[-1] = (up_us[-1][0], end_us)
            else:
                up_us.append((start_us, end_us))
        elif state != _DOWN:  # unknown, silent or anything else: neither up nor down
            continue
        elif down_us and start_us <= down_us[-1][1]:
            downs[-1] = (downs[-1][0], seg_end)
            down_us[-1] = (down_us[-1][0], end_us)
        else:
            downs.append((seg_start, seg_end))
            down_us.append((start_us, end_us))
    if cover_end >= 0:
        covered.append((cover_start, cover_end))
    return up_us, downs, down_us, covered


def _scope(calendar: Calendar, start: datetime, end: datetime) -> Sequence[Micros]:
    """The calendar's in-scope time in ``[start, end)``, in microseconds."""
    if calendar.is_always:
        low, high = micros(start - EPOCH), micros(end - EPOCH)
        return [(low, high)] if low < high else []
    return _scope_cached(calendar, start, end)


@functools.lru_cache(maxsize=1024)
def _scope_cached(calendar: Calendar, start: datetime, end: datetime) -> tuple[Micros, ...]:
    """The counted time, cached: many sites share a plan and ask for the same months."""
    return tuple(as_micros(calendar.in_scope(start, end)))
