"""Uptime figures from the state-change log: time-weighted, with unknown time left out.

A monitor's state over a period is rebuilt from its ``StateChange`` rows (the exact outage
intervals). Time while the state is up counts as up, time while it is down counts as down, and
time before the first known state (or while the state is unknown) is *unknown*: it is left out
of the denominator rather than counted as up, so a monitor added yesterday has no 30-day figure
inflated by 29 days nobody watched.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from monitoring.models import Monitor, MonitorState, StateChange

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


def _normal(state: str) -> str:
    """Anything but up or down (unknown, a future "paused") counts as unknown."""
    return state if state in (MonitorState.UP, MonitorState.DOWN) else MonitorState.UNKNOWN


def state_at_start(changes: Sequence[Change], start: datetime, current_state: str) -> str:
    """The state in force at ``start``.

    1. The last change at or before ``start`` decides, if there is one.
    2. Otherwise the first later change tells what it changed *from*.
    3. With no change at all, the monitor has been in its current state throughout.
    """
    before = [c for c in changes if c.at <= start]
    if before:
        return _normal(before[-1].to_state)
    if changes:
        return _normal(changes[0].from_state)
    return _normal(current_state)


def timeline(
    changes: Sequence[Change], *, start: datetime, end: datetime, current_state: str
) -> list[Segment]:
    """The monitor's states over ``[start, end)`` as contiguous segments.

    ``changes`` must be in time order; it may include changes outside the period.
    """
    if end <= start:
        return []
    state = state_at_start(changes, start, current_state)
    segments: list[Segment] = []
    cursor = start
    for change in changes:
        if change.at <= start:
            continue
        if change.at >= end:
            break
        segments.append(Segment(cursor, change.at, state))
        cursor, state = change.at, _normal(change.to_state)
    segments.append(Segment(cursor, end, state))
    return [s for s in segments if s.seconds > 0]


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
        self.states = {m.pk: m.state for m in monitors}
        self.changes = _load_changes(list(self.states), since=self.now - longest)

    def _timeline(self, monitor_id: int, window: timedelta) -> list[Segment]:
        return timeline(
            self.changes.get(monitor_id, []),
            start=self.now - window,
            end=self.now,
            current_state=self.states.get(monitor_id, MonitorState.UNKNOWN),
        )

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
