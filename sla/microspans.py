"""Span lists over integer microseconds since :data:`EPOCH`: intervals' operations, cheaper.

:mod:`sla.availability` turns a timeline into these once and computes every period's figures
on them: integers are exact like timedeltas and much cheaper to add up and compare. A span is
a ``(start, end)`` pair of microseconds; span lists are sorted and not overlapping, as in
:mod:`sitecare.lib.intervals`.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from operator import itemgetter

from sitecare.lib.intervals import Interval

Micros = tuple[int, int]
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def micros(duration: timedelta) -> int:
    """A duration in whole microseconds (exact)."""
    return (duration.days * 86_400 + duration.seconds) * 1_000_000 + duration.microseconds


def as_micros(spans: Sequence[Interval]) -> list[Micros]:
    return [(micros(s - EPOCH), micros(e - EPOCH)) for s, e in spans]


def bounds(spans: Sequence[Micros], low: int, high: int) -> tuple[int, int]:
    """The slice of the (sorted) spans overlapping ``[low, high)``, found by bisection."""
    first = bisect.bisect_right(spans, low, key=itemgetter(1))
    return first, bisect.bisect_left(spans, high, lo=first, key=itemgetter(0))


def within(spans: Sequence[Micros], low: int, high: int) -> Sequence[Micros]:
    """The spans overlapping ``[low, high)``, unclipped."""
    first, last = bounds(spans, low, high)
    return spans[first:last]


def _pieces(a: Sequence[Micros], b: Sequence[Micros]) -> Iterator[tuple[int, int, int]]:
    """The time in both span lists, piece by piece: ``(start, end, index of b's span)``.

    One walk over both sorted lists, advancing the one whose span ends first.
    """
    i = j = 0
    len_a, len_b = len(a), len(b)
    while i < len_a and j < len_b:
        a_start, a_end = a[i]
        b_start, b_end = b[j]
        low = a_start if a_start > b_start else b_start
        high = a_end if a_end < b_end else b_end
        if low < high:
            yield low, high, j
        if a_end <= b_end:
            i += 1
        else:
            j += 1


def intersect(a: Sequence[Micros], b: Sequence[Micros]) -> list[Micros]:
    return [(low, high) for low, high, _run in _pieces(a, b)]


def subtract(a: Sequence[Micros], b: Sequence[Micros]) -> list[Micros]:
    result: list[Micros] = []
    j = 0
    len_b = len(b)
    for start, end in a:
        while j < len_b and b[j][1] <= start:
            j += 1
        cursor = start
        k = j
        while k < len_b and b[k][0] < end:
            if b[k][0] > cursor:
                result.append((cursor, b[k][0]))
            if b[k][1] > cursor:
                cursor = b[k][1]
            k += 1
        if cursor < end:
            result.append((cursor, end))
    return result


def overlap(a: Sequence[Micros], b: Sequence[Micros]) -> int:
    """The length of the time in both span lists."""
    return sum(high - low for low, high, _run in _pieces(a, b))


def overlap_by_run(counted: Sequence[Micros], runs: Sequence[Micros]) -> list[int]:
    """For each run, the length of its time in ``counted`` (both span lists)."""
    parts = [0] * len(runs)
    for low, high, run in _pieces(counted, runs):
        parts[run] += high - low
    return parts


def length(spans: Sequence[Micros]) -> int:
    return sum(e - s for s, e in spans)
