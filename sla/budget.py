"""Error budgets: how much downtime a target allows in a window, how much is gone, and when
the rest runs out at the present pace. Pure functions over span lists, like availability.

- *counted time*: the window's in-scope time less excluded maintenance;
- *counted basis*: the part of it the window's closing figure can still count: the time
  judged so far (up and down; unknown time too when the plan counts it as up or as down) and
  the counted time still to come. Time nobody watched that the figure leaves out (not
  monitored yet; unknown time under the default policy) is not in it (see ``sla.verdicts``):
  the basis is the largest denominator the closing availability can have, so the budget is
  the most downtime the window can still take and meet its target;
- *allowed* = (100 % − target) × the basis, rounded down to the microsecond; it can only
  shrink as the window runs (time to come that nobody watches leaves the basis), and a closed
  window's budget is used up exactly when the window is missed;
- *consumed* = counted downtime so far (with unknown time when the plan counts unknown time
  as down); *remaining* = allowed − consumed (negative when overspent);
- *elapsed* = share of the basis judged so far; *burn rate* = consumed share ÷ elapsed share
  (1 means exactly on pace to use the whole budget by the window's end: the availability so
  far is the target);
- *runs out at*: at the average pace so far (downtime per judged time), the moment the
  remaining budget is gone, walking the counted time to come (so nights and weekends of a
  business-hours plan do not burn it); None when it lasts the window;
- *exhausted at*: the moment counted downtime passed the allowance, when it did.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction

from monitoring.models import MonitorState
from sitecare.lib.intervals import ZERO, Interval, clip, intersect, merge, subtract, total
from sla.calendar import Calendar
from sla.microspans import micros
from sla.models import UnknownTime
from sla.timelines import StateSpan

_DOWN = MonitorState.DOWN.value
_UP = MonitorState.UP.value


class Outlook(StrEnum):
    """Where the error budget of a window stands (each page and the CLI word it)."""

    NOTHING_COUNTED = "nothing_counted"  # nothing judged yet (or, once closed, at all)
    NO_ALLOWANCE = "no_allowance"
    USED_UP = "used_up"
    RUNS_OUT = "runs_out"
    LASTS = "lasts"


@dataclass(frozen=True)
class ErrorBudget:
    start: datetime
    end: datetime
    target: Decimal
    allowed: timedelta
    consumed: timedelta
    elapsed: Fraction
    exhausted_at: datetime | None
    runs_out_at: datetime | None
    # (moment, consumed by then): one point a day, one at each edge of counted downtime and one
    # at the last moment known, for charts.
    burn: tuple[tuple[datetime, timedelta], ...]
    # (moment, what an even spend over the basis has used by then): the window's start, each
    # day mark and its end; flat where nothing counts (nights, weekends, maintenance, time
    # nobody watched that the figure leaves out).
    pace: tuple[tuple[datetime, timedelta], ...] = ()

    @property
    def remaining(self) -> timedelta:
        return self.allowed - self.consumed

    @property
    def consumed_ratio(self) -> Fraction | None:
        """Share of the budget gone (may pass 1); None when the target allows no downtime."""
        if self.allowed <= ZERO:
            return None
        return Fraction(micros(self.consumed), micros(self.allowed))

    @property
    def consumed_percent(self) -> Fraction | None:
        ratio = self.consumed_ratio
        return None if ratio is None else ratio * 100

    @property
    def burn_rate(self) -> Fraction | None:
        ratio = self.consumed_ratio
        if ratio is None or self.elapsed == 0:
            return None
        return ratio / self.elapsed

    @property
    def is_exhausted(self) -> bool:
        return self.consumed > self.allowed or (self.allowed <= ZERO and self.consumed > ZERO)

    @property
    def outlook(self) -> Outlook:
        """Used up; else nothing counted (no outlook to give); else no allowance at all; else
        runs out before the end at the pace so far, or lasts the window."""
        if self.is_exhausted or self.exhausted_at is not None:
            return Outlook.USED_UP
        if self.elapsed == 0:
            return Outlook.NOTHING_COUNTED
        if self.allowed <= ZERO:
            return Outlook.NO_ALLOWANCE
        if self.runs_out_at is not None:
            return Outlook.RUNS_OUT
        return Outlook.LASTS


def error_budget(
    timeline: Sequence[StateSpan],
    calendar: Calendar,
    start: datetime,
    end: datetime,
    *,
    target: Decimal,
    excluded: Sequence[Interval] = (),
    now: datetime,
    day_marks: Sequence[datetime] = (),
    unknown_time: str = UnknownTime.EXCLUDED,
) -> ErrorBudget:
    """The budget of the window ``[start, end)`` at ``now`` (see the module docstring).

    1. Counted time of the whole window; in it, the time judged so far (as ``unknown_time``
       says) and the time to come (after ``now``, no segment yet): the basis, and the
       allowance from it.
    2. Counted downtime, in time order (consumed, and when it passed the allowance); unknown
       segments too when ``unknown_time`` counts them as down.
    3. The pace so far (downtime per judged time), and where in the time to come it would
       use the rest.
    4. Consumed by each of ``day_marks`` (local midnights), at the edges of each stretch of
       downtime and by now, for the burn chart, and what an even spend of the allowance
       over the basis would have used by each mark.
    """
    counted = subtract(calendar.in_scope(start, end), merge(excluded))
    policy = UnknownTime(unknown_time)
    as_down = policy == UnknownTime.DOWN
    downs = merge(
        (s, e) for s, e, state in timeline if state == _DOWN or (as_down and state != _UP)
    )
    judged_states = (_UP, _DOWN) if policy == UnknownTime.EXCLUDED else None
    judged = intersect(
        merge(
            (s, e) for s, e, state in timeline if judged_states is None or state in judged_states
        ),
        counted,
    )
    until = min(max(now, start), end)
    to_come = subtract(clip(counted, until, end), merge((s, e) for s, e, _state in timeline))
    basis = merge([*judged, *to_come])
    basis_us = micros(total(basis))
    judged_us = micros(total(judged))
    allowed = allowance(target, total(basis))
    down_counted = intersect(downs, counted)
    consumed = total(down_counted)
    elapsed = Fraction(judged_us, basis_us) if basis_us else Fraction(0)
    remaining = allowed - consumed
    runs_out_at = None
    if consumed > ZERO and remaining > ZERO and judged_us:
        needed = timedelta(
            microseconds=int(Fraction(micros(remaining) * judged_us, micros(consumed)))
        )
        runs_out_at = _moment_after(to_come, needed)
    # The burn series: each day mark, and both edges of each stretch of counted downtime, so
    # the line rises where the downtime was and is flat elsewhere.
    edges = [moment for span in down_counted for moment in span]
    marks = sorted({m for m in [*day_marks, *edges] if start < m < until} | {until})
    burn = tuple(zip(marks, _used_by(marks, down_counted), strict=True))
    pace_marks = [start, *(mark for mark in day_marks if start < mark < end), end]
    pace = tuple(
        (
            mark,
            timedelta(
                microseconds=micros(allowed) * micros(total(clip(basis, start, mark))) // basis_us
            )
            if basis_us
            else ZERO,
        )
        for mark in pace_marks
    )
    return ErrorBudget(
        start=start,
        end=end,
        target=target,
        allowed=allowed,
        consumed=consumed,
        elapsed=elapsed,
        exhausted_at=_exhausted_at(down_counted, allowed),
        runs_out_at=runs_out_at,
        burn=burn,
        pace=pace,
    )


def allowance(target: Decimal, counted: timedelta) -> timedelta:
    """The downtime a target allows over this much counted time, rounded down (never more)."""
    return timedelta(microseconds=int(Fraction(100 - target) / 100 * micros(counted)))


def _exhausted_at(down_counted: Sequence[Interval], allowed: timedelta) -> datetime | None:
    """When counted downtime first went past the allowance."""
    used = ZERO
    for span_start, span_end in down_counted:
        length = span_end - span_start
        if used + length > allowed:
            return span_start + max(allowed - used, ZERO)
        used += length
    return None


def _used_by(marks: Sequence[datetime], spans: Sequence[Interval]) -> list[timedelta]:
    """For each mark (in time order), how much of the spans' time lies before it."""
    found: list[timedelta] = []
    used = ZERO  # the time of the spans wholly before the current mark
    i = 0
    for mark in marks:
        while i < len(spans) and spans[i][1] <= mark:
            used += spans[i][1] - spans[i][0]
            i += 1
        partial = mark - spans[i][0] if i < len(spans) and spans[i][0] < mark else ZERO
        found.append(used + partial)
    return found


def _moment_after(spans: Sequence[Interval], amount: timedelta) -> datetime | None:
    """The moment ``amount`` of the spans' time has passed (walking them in order), or None."""
    left = amount
    for span_start, span_end in spans:
        if span_end - span_start >= left:
            return span_start + left
        left -= span_end - span_start
    return None
