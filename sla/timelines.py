"""State timelines: their shape, their check, and a site's timeline from its monitors'.

A *timeline* is plain data: ``(start, end, state)`` segments, state ``up``, ``down`` or
``unknown`` (``MonitorState`` values; anything else counts as unknown), in time order, not
overlapping. Time no segment covers is a *gap*: no monitor existed yet (or, past the last
segment, the time has not come yet). :mod:`sla.availability` computes the figures of one.

A site's timeline (:func:`combine`): down while any of its (critical) monitors is down;
otherwise unknown while any is unknown; otherwise up while any is up; a gap where none has a
segment. A monitor that does not exist yet is a gap, not unknown, so adding a monitor in
mid-month does not blank the site's earlier days. Overlapping outages of several monitors
are one stretch of site downtime, never counted twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from monitoring.models import MonitorState
from sitecare.lib.intervals import check

StateSpan = tuple[datetime, datetime, str]
# Plain strings, not the enum members: a tuple holding only untracked objects (datetimes,
# plain strings) is dropped from the garbage collector's lists, and a year of sites is a
# quarter of a million such tuples; enum members have a ``__dict__`` and keep them tracked.
_STATES: tuple[str, ...] = (
    MonitorState.DOWN.value,
    MonitorState.UNKNOWN.value,
    MonitorState.UP.value,
)
# A member that says nothing about its site for a while (paused, or a heartbeat not pinged
# yet): in combine() it yields to every member that says something, and the site is unknown
# only when all its members are silent. Never a state of a combined timeline.
SILENT = "silent"
# combine() keeps the number of members down, unknown, up and silent in one integer, in
# fields of 32 bits (a site has far fewer than 2**32 monitors).
_SILENT_UNIT, _UP_UNIT, _UNKNOWN_UNIT, _DOWN_UNIT = 1, 1 << 32, 1 << 64, 1 << 96
_UNITS = {
    MonitorState.DOWN.value: _DOWN_UNIT,
    MonitorState.UP.value: _UP_UNIT,
    SILENT: _SILENT_UNIT,
}  # anything else: unknown


def checked(timeline: Sequence[StateSpan]) -> Sequence[StateSpan]:
    """The timeline, or ``ValueError`` naming it when segments are reversed, naive or overlap."""
    previous_end: datetime | None = None
    for seg_start, seg_end, _state in timeline:
        if seg_start.tzinfo is None or seg_end.tzinfo is None or seg_end < seg_start:
            check([(seg_start, seg_end)], name="timeline")
        if previous_end is not None and seg_start < previous_end:
            raise ValueError(f"timeline: segment at {seg_start} overlaps the one before it")
        previous_end = seg_end
    return timeline


def combine(timelines: Sequence[Sequence[StateSpan]]) -> list[StateSpan]:
    """One site timeline from its monitors' timelines (down > unknown > up > silent > gap).

    1. Record, at every segment boundary, how many members enter or leave each state; the
       four counts are packed into one integer (``_UNITS``), and where one segment of a
       member ends as its next begins, the two changes are one event.
    2. Sweep the boundaries in order, keeping the (packed) counts.
    3. Between two boundaries the site is in the first state (down, unknown, up) any member
       is in, or unknown when every member there is :data:`SILENT`; join touching pieces in
       the same state.
    """
    times: list[datetime] = []
    deltas: list[int] = []
    for segments in timelines:
        previous_end: datetime | None = None
        for seg_start, seg_end, state in checked(segments):
            unit = _UNITS.get(state, _UNKNOWN_UNIT)
            if seg_start == previous_end:
                deltas[-1] += unit
            else:
                times.append(seg_start)
                deltas.append(unit)
            times.append(seg_end)
            deltas.append(-unit)
            previous_end = seg_end
    return _sweep(times, deltas)


def _sweep(times: list[datetime], deltas: list[int]) -> list[StateSpan]:
    """The site's pieces from its events (parallel lists, not tuples: nothing for the GC)."""
    combined: list[StateSpan] = []
    piece_start: datetime | None = None
    piece_state: str | None = None
    moment: datetime | None = None  # the first event of the moment being applied
    previous: datetime | None = None  # the last event applied
    counts = 0
    for i in sorted(range(len(times)), key=times.__getitem__):
        here = times[i]
        if moment is None:
            moment = here
        elif here != moment:  # every change at ``moment`` is applied: read the state
            state = (
                _STATES[0]
                if counts >= _DOWN_UNIT
                else _STATES[1]
                if counts >= _UNKNOWN_UNIT
                else _STATES[2]
                if counts >= _UP_UNIT
                else _STATES[1]
                if counts
                else None
            )
            if state != piece_state:
                if piece_state is not None:
                    combined.append((piece_start, moment, piece_state))  # type: ignore[arg-type]
                piece_start, piece_state = previous, state
            moment = here
        counts += deltas[i]
        previous = here
    if piece_state is not None:  # every member has ended at the last moment
        combined.append((piece_start, moment, piece_state))  # type: ignore[arg-type]
    return combined
