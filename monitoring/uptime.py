"""Uptime figures from the state-change log: time-weighted, with unknown time left out.

A monitor's state over a period is rebuilt from its ``StateChange`` rows (the exact outage
intervals). Time while the state is up counts as up, time while it is down counts as down, and
time before the first known state (or while the state is unknown) is *unknown*: it is left out
of the denominator rather than counted as up, so a monitor added yesterday has no 30-day figure
inflated by 29 days nobody watched.

A monitor's paused time, and a heartbeat's time before its first ping
(``monitoring.pauses.unknown_spans``), are unknown too, whatever the log says, as in the SLA:
a monitor paused while down is not down for the whole pause. In a group (a site) unknown
members yield to the others, so a paused monitor leaves the site to its other monitors and
keeps its figures from before the pause.
"""

from __future__ import annotations

import bisect
import itertools
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from monitoring.models import Monitor, MonitorState, StateChange
from monitoring.pauses import unknown_spans

# SQLite refuses statements with more bound parameters than this (older builds: 999).
_IN_CHUNK = 900


@dataclass(frozen=True)
class Change:
    """The parts of a ``StateChange`` the figures need."""

    at: datetime
    from_state: str
    to_state: str


@dataclass(frozen=True)
class Segment:
    """A stretch of time in one state, ``start`` inclusive, ``end`` exclusive."""

    start: datetime
    end: datetime
    state: str

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()


@dataclass(frozen=True)
class Uptime:
    """Seconds up, down and unknown over a period; the percentage is of the known time."""

    up_seconds: float = 0.0
    down_seconds: float = 0.0
    unknown_seconds: float = 0.0

    @property
    def known_seconds(self) -> float:
        return self.up_seconds + self.down_seconds

    @property
    def percent(self) -> float | None:
        """Up time as a percentage of known time; ``None`` when nothing is known."""
        if self.known_seconds <= 0:
            return None
        return 100.0 * self.up_seconds / self.known_seconds


# Plain strings, not enum members: long-lived spans of plain data stay out of the garbage
# collector's way (sla.availability builds hundreds of thousands of them).
_KNOWN = frozenset((MonitorState.UP.value, MonitorState.DOWN.value))
_UNKNOWN: str = MonitorState.UNKNOWN.value

StateSpan = tuple[datetime, datetime, str]


def _normal(state: str) -> str:
    """Anything but up or down (unknown, a future "paused") counts as unknown."""
    return state if state in _KNOWN else _UNKNOWN


def state_spans(
    ats: Sequence[datetime],
    from_states: Sequence[str],
    to_states: Sequence[str],
    *,
    start: datetime,
    end: datetime,
    current_state: str,
) -> list[StateSpan]:
    """A monitor's states over ``[start, end)`` as contiguous ``(start, end, state)`` spans.

    The changes come as parallel lists in time order (they may reach outside the period).
    1. The state in force at ``start``: the last change at or before it decides; otherwise
       the first later change tells what it changed *from*; with no change at all, the
       monitor has been in its current state throughout.
    2. Each change inside the period closes a span; empty spans are left out.
    """
    if end <= start:
        return []
    first = bisect.bisect_right(ats, start)
    if first:
        state = _normal(to_states[first - 1])
    elif ats:
        state = _normal(from_states[0])
    else:
        state = _normal(current_state)
    spans: list[StateSpan] = []
    cursor = start
    for i in range(first, len(ats)):
        at = ats[i]
        if at >= end:
            break
        if at > cursor:
            spans.append((cursor, at, state))
        cursor, state = at, _normal(to_states[i])
    spans.append((cursor, end, state))
    return spans


def overlay_unknown(
    segments: list[StateSpan],
    spans: Sequence[tuple[datetime, datetime]],
    hidden_as: str = _UNKNOWN,
) -> list[StateSpan]:
    """The segments with the time in ``spans`` (a span list) made unknown (or ``hidden_as``).

    1. Walk the segments and the spans together (both in time order, no overlaps).
    2. Cut each segment at the spans' edges: the parts inside a span become unknown, the
       rest keeps its state; gaps between segments stay gaps.
    3. Join touching unknown pieces, so the result is as ``state_spans`` would build it.
    """
    if not spans or not segments:
        return segments
    result: list[StateSpan] = []
    j = 0
    count = len(spans)
    for segment in segments:
        seg_start, seg_end, state = segment
        while j < count and spans[j][1] <= seg_start:
            j += 1
        if (j == count or spans[j][0] >= seg_end) and state != hidden_as:
            result.append(segment)  # no span meets it (most segments): kept as it is
            continue
        cursor = seg_start
        k = j
        while k < count and spans[k][0] < seg_end:
            span_start, span_end = spans[k]
            if span_start > cursor:
                _append(result, cursor, span_start, state)
            cursor = max(cursor, span_start)
            hidden_end = min(span_end, seg_end)
            _append(result, cursor, hidden_end, hidden_as)
            cursor = hidden_end
            if span_end > seg_end:
                break
            k += 1
        if cursor < seg_end:
            _append(result, cursor, seg_end, state)
    return result


def _append(result: list[StateSpan], start: datetime, end: datetime, state: str) -> None:
    """Add a piece, joined to the one before when it touches it in the same state."""
    if not start < end:
        return
    if result and result[-1][1] == start and result[-1][2] == state:
        result[-1] = (result[-1][0], end, state)
    else:
        result.append((start, end, state))


def timeline(
    changes: Sequence[Change], *, start: datetime, end: datetime, current_state: str
) -> list[Segment]:
    """The monitor's states over ``[start, end)`` as contiguous segments (see
    :func:`state_spans`); ``changes`` must be in time order."""
    spans = state_spans(
        [c.at for c in changes],
        [c.from_state for c in changes],
        [c.to_state for c in changes],
        start=start,
        end=end,
        current_state=current_state,
    )
    return [Segment(*span) for span in spans]


def _state_of_group(states: Iterable[str]) -> str:
    """Down if any member is down, up if any is up, else unknown (unknown members ignored)."""
    seen = set(states)
    if MonitorState.DOWN in seen:
        return MonitorState.DOWN
    if MonitorState.UP in seen:
        return MonitorState.UP
    return MonitorState.UNKNOWN


def combine(timelines: Sequence[list[Segment]], *, start: datetime, end: datetime) -> list[Segment]:
    """One timeline for a group (a site's monitors): down whenever any member is down.

    1. Cut the period at every boundary of every member's timeline.
    2. Give each piece the group state of the members' states during it.
    """
    bounds = sorted({start, end} | {s.start for t in timelines for s in t if start < s.start < end})
    pieces: list[Segment] = []
    for piece_start, piece_end in itertools.pairwise(bounds):
        states = [_state_during(t, piece_start) for t in timelines]
        pieces.append(Segment(piece_start, piece_end, _state_of_group(states)))
    return pieces


def _state_during(segments: list[Segment], moment: datetime) -> str:
    for segment in segments:
        if segment.start <= moment < segment.end:
            return segment.state
    return MonitorState.UNKNOWN


def summarize(segments: Iterable[Segment]) -> Uptime:
    totals = {MonitorState.UP: 0.0, MonitorState.DOWN: 0.0, MonitorState.UNKNOWN: 0.0}
    for segment in segments:
        totals[MonitorState(segment.state)] += segment.seconds
    return Uptime(
        up_seconds=totals[MonitorState.UP],
        down_seconds=totals[MonitorState.DOWN],
        unknown_seconds=totals[MonitorState.UNKNOWN],
    )


def uptime(
    changes: Sequence[Change], *, start: datetime, end: datetime, current_state: str
) -> Uptime:
    """Uptime of one monitor over ``[start, end)`` from its time-ordered changes."""
    return summarize(timeline(changes, start=start, end=end, current_state=current_state))


class UptimeBatch:
    """The state changes of many monitors, loaded in one query per chunk, for any window.

    The dashboard and the site page ask for 24 h and 30 d figures of every monitor (and of
    sites as groups); loading the log once avoids a query per monitor.
    """

    def __init__(
        self, monitors: Iterable[Monitor], *, longest: timedelta, now: datetime | None = None
    ) -> None:
        self.now = now or timezone.now()
        monitors = list(monitors)
        self.states = {m.pk: m.state for m in monitors}
        self.changes = _load_changes(list(self.states), since=self.now - longest)
        # Paused (and never-pinged) time: unknown whatever the log says (module docstring).
        self.silent = unknown_spans(monitors, self.now - longest, self.now)

    def _timeline(self, monitor_id: int, window: timedelta) -> list[Segment]:
        changes = self.changes.get(monitor_id, [])
        spans = state_spans(
            [c.at for c in changes],
            [c.from_state for c in changes],
            [c.to_state for c in changes],
            start=self.now - window,
            end=self.now,
            current_state=self.states.get(monitor_id, MonitorState.UNKNOWN),
        )
        silent = self.silent.get(monitor_id)
        if silent:
            spans = overlay_unknown(spans, silent)
        return [Segment(*span) for span in spans]

    def for_monitor(self, monitor_id: int, window: timedelta) -> Uptime:
        return summarize(self._timeline(monitor_id, window))

    def for_group(self, monitor_ids: Iterable[int], window: timedelta) -> Uptime:
        """Uptime of a group: down while any member is down (e.g. a site's monitors)."""
        timelines = [self._timeline(pk, window) for pk in monitor_ids]
        if not timelines:
            return Uptime(unknown_seconds=window.total_seconds())
        return summarize(combine(timelines, start=self.now - window, end=self.now))


def _load_changes(monitor_ids: list[int], *, since: datetime) -> dict[int, list[Change]]:
    """Changes at or after ``since``, by monitor, in time order.

    Changes before ``since`` are not needed: the first later change's ``from_state`` tells the
    state at the start of the window, and no later change means the current state held.
    """
    by_monitor: dict[int, list[Change]] = defaultdict(list)
    for offset in range(0, len(monitor_ids), _IN_CHUNK):
        rows = (
            StateChange.objects.filter(
                monitor_id__in=monitor_ids[offset : offset + _IN_CHUNK], at__gte=since
            )
            .order_by("monitor_id", "at", "pk")
            .values_list("monitor_id", "at", "from_state", "to_state")
        )
        for monitor_id, at, from_state, to_state in rows:
            by_monitor[monitor_id].append(Change(at, from_state, to_state))
    return dict(by_monitor)
