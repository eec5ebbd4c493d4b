"""Timelines for the property tests, built from generated pieces."""

from __future__ import annotations

from datetime import datetime, timedelta

from sla.timelines import StateSpan

MINUTE = timedelta(minutes=1)


def as_timeline(origin: datetime, pieces: list[tuple[int, int, str]]) -> list[StateSpan]:
    """Segments from (gap, length, state) in minutes, each after the one before."""
    segments: list[StateSpan] = []
    cursor = origin
    for gap, length, state in pieces:
        start = cursor + gap * MINUTE
        cursor = start + length * MINUTE
        segments.append((start, cursor, state))
    return segments
