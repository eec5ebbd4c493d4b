"""Half-open UTC intervals ``[start, end)`` and their set operations: what the SLA is built
from, and what monitoring's paused and unwatched time are read as.

An interval is a plain ``(start, end)`` pair of aware datetimes (the same shape
``incidents.maintenance.maintenance_intervals`` returns). A *span list* is a list of intervals
sorted by start, none empty, none overlapping or touching: what :func:`merge` returns and what
every other function here takes and returns. Durations are ``timedelta`` sums, exact to the
microsecond (integer arithmetic, never floats).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

Interval = tuple[datetime, datetime]
ZERO = timedelta(0)


def check(intervals: Iterable[Interval], *, name: str) -> list[Interval]:
    """The intervals as a list, or ``ValueError`` naming ``name`` if one is naive or reversed."""
    checked: list[Interval] = []
    for start, end in intervals:
        if start.tzinfo is None or end.tzinfo is None:
            raise ValueError(f"{name}: {start!r}–{end!r} must be time-zone aware")
        if end < start:
            raise ValueError(f"{name}: interval ends ({end}) before it starts ({start})")
        checked.append((start, end))
    return checked


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """A span list: sorted, empty intervals dropped, overlapping and touching ones joined."""
    merged: list[Interval] = []
    for start, end in sorted(i for i in intervals if i[0] < i[1]):
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def clip(spans: Sequence[Interval], start: datetime, end: datetime) -> list[Interval]:
    """The parts of a span list inside ``[start, end)``."""
    clipped = [(max(s, start), min(e, end)) for s, e in spans if s < end and e > start]
    return [(s, e) for s, e in clipped if s < e]


def intersect(a: Sequence[Interval], b: Sequence[Interval]) -> list[Interval]:
    """The time in both span lists.

    1. Walk both lists at once (each is sorted and disjoint).
    2. Keep the overlap of the current pair; advance whichever ends first.
    """
    result: list[Interval] = []
    i = j = 0
    while i < len(a) and j < len(b):
        start = max(a[i][0], b[j][0])
        end = min(a[i][1], b[j][1])
        if start < end:
            result.append((start, end))
        if a[i][1] <= b[j][1]:
            i += 1
        else:
            j += 1
    return result


def subtract(a: Sequence[Interval], b: Sequence[Interval]) -> list[Interval]:
    """The time in span list ``a`` and not in ``b``.

    1. For each interval of ``a``, cut out the intervals of ``b`` that overlap it, in order.
    2. ``b``'s cursor only moves forward: both lists are sorted, so this is linear.
    """
    result: list[Interval] = []
    j = 0
    for start, end in a:
        while j < len(b) and b[j][1] <= start:
            j += 1
        cursor = start
        k = j
        while k < len(b) and b[k][0] < end:
            if b[k][0] > cursor:
                result.append((cursor, b[k][0]))
            cursor = max(cursor, b[k][1])
            k += 1
        if cursor < end:
            result.append((cursor, end))
    return result


def total(spans: Iterable[Interval]) -> timedelta:
    """The summed length of the intervals (exact: timedelta adds integer microseconds)."""
    return sum((end - start for start, end in spans), ZERO)
