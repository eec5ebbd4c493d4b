"""When each monitor is due next: a heap with lazy deletion, and the jitter rules."""

from __future__ import annotations

import heapq
import itertools
import random


class Schedule:
    """Monitors' next due times (monotonic seconds), earliest first.

    Replacing or removing a monitor leaves its old heap entry behind; the entry is skipped
    when it surfaces, because its token no longer matches. That keeps every change O(log n).
    """

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, int]] = []
        self._current: dict[int, tuple[float, int]] = {}
        self._tokens = itertools.count()

    def __len__(self) -> int:
        return len(self._current)

    def __contains__(self, monitor_id: object) -> bool:
        return monitor_id in self._current

    def put(self, monitor_id: int, due: float) -> None:
        """Schedule (or reschedule) a monitor at ``due``."""
        token = next(self._tokens)
        self._current[monitor_id] = (due, token)
        heapq.heappush(self._heap, (due, token, monitor_id))

    def remove(self, monitor_id: int) -> None:
        self._current.pop(monitor_id, None)

    def due_of(self, monitor_id: int) -> float | None:
        entry = self._current.get(monitor_id)
        return entry[0] if entry else None

    def next_due(self) -> float | None:
        """The earliest due time, or None when nothing is scheduled."""
        self._drop_stale()
        return self._heap[0][0] if self._heap else None

    def pop_due(self, now: float, limit: int) -> list[tuple[int, float]]:
        """Take up to ``limit`` monitors due at ``now`` (id and due time), earliest first."""
        taken: list[tuple[int, float]] = []
        while len(taken) < limit:
            self._drop_stale()
            if not self._heap or self._heap[0][0] > now:
                break
            due, _token, monitor_id = heapq.heappop(self._heap)
            del self._current[monitor_id]
            taken.append((monitor_id, due))
        return taken

    def _drop_stale(self) -> None:
        heap = self._heap
        while heap:
            due, token, monitor_id = heap[0]
            if self._current.get(monitor_id) == (due, token):
                return
            heapq.heappop(heap)


def first_due(now: float, interval_s: float, rng: random.Random) -> float:
    """A new monitor's first check: anywhere within its first interval, so starts spread."""
    return now + rng.uniform(0, interval_s)


def next_due(previous_due: float, interval_s: float, now: float) -> float:
    """The check after one due at ``previous_due``: fixed rate, never in the past.

    Fixed rate (previous due + interval) keeps the spread of first checks instead of drifting
    by each check's duration; an engine that fell behind resumes now rather than catching up
    with a burst of missed checks.
    """
    return max(previous_due + interval_s, now)


def turn_after(due: float, turn: float, interval_s: float, now: float) -> float:
    """A monitor's next regular turn once its check due at ``due`` starts.

    A check due at or after the turn is the regular one: the turn moves on at fixed rate. A
    check due before it was a confirmation re-check, which leaves the turn (and the monitor's
    place in the spread) where it was.
    """
    return next_due(turn, interval_s, now) if due >= turn else turn
