"""Confirmation: the engine's own view of each monitor's streak, and the faster re-check pace.

The database decides flips (``monitoring.logic.record_results``), but it learns of a result only
at the next batch flush. The engine must choose the next check's time the moment a check ends,
so it keeps a small mirror of each monitor's state and streak (loaded with the monitors,
advanced from its own outcomes by the one rule, ``monitoring.streaks.advance``) and
re-checks faster while the latest result disagrees with the state and the streak has not
confirmed a flip yet.

Why an outage longer than 1.5 × the interval is always detected
----------------------------------------------------------------
Let ``I`` be the interval, ``N`` = ``confirm_down``, ``R`` the monitor's ``recheck_s`` and
``P = recheck_pace(I, N, R) = min(R, I / (2 (N - 1)))`` (``P = R`` when ``N = 1``).

1. Regular checks start at a fixed rate, so some check starts within ``I`` of any moment:
   the first check to start inside an outage beginning at ``t0`` starts at ``s1 < t0 + I``.
2. It fails; the mirror's streak now disagrees with the state (up or unknown), so the next check
   is due at ``max(s1 + P, end of the check)``. Each further failure does the same until the
   streak reaches ``N`` and the flip is confirmed.
3. While failing checks end within ``P`` (a refused connection, an error status), the ``N``-th
   failing check starts at ``sN ≤ s1 + (N - 1) P ≤ s1 + I / 2 < t0 + 1.5 I``.
4. So any outage lasting more than ``1.5 I`` contains ``N`` consecutive failing checks, and the
   monitor flips to down (dated at ``s1``, the start of the streak). A check that runs to its
   timeout ``T`` stretches step 3 to ``(N - 1) max(P, T)``: the bound holds while
   ``(N - 1) T ≤ I / 2`` (the defaults, 60 s / 10 s / N = 3, have room to spare).
Recovery is symmetric: successes while down are re-checked at the same pace until ``confirm_up``.
"""

from __future__ import annotations

import random

from monitoring.models import MonitorState
from monitoring.streaks import Streak


def is_confirming(streak: Streak) -> bool:
    """True while the latest result disagrees with the state: a flip awaits confirmation."""
    if streak.streak_ok is None or streak.streak_count == 0:
        return False
    if streak.streak_ok:
        return streak.state == MonitorState.DOWN
    return streak.state != MonitorState.DOWN


def recheck_pace(interval_s: float, confirm_down: int, recheck_s: float) -> float:
    """Seconds between confirmation checks: ``recheck_s``, shortened to keep the 1.5 × bound."""
    budget = interval_s / (2 * max(confirm_down - 1, 1))
    return max(min(recheck_s, budget, interval_s), 0.0)


def recheck_due(started: float, now: float, pace: float) -> float:
    """When the confirmation check after one started at ``started`` is due (never the past)."""
    return max(started + pace, now)


def due_after_outcome(
    scheduled: float, streak: Streak, started: float, now: float, pace: float
) -> float:
    """The next check's due time once a check's outcome advanced the streak to ``streak``.

    While a flip awaits confirmation the next check comes at the re-check pace, counted from
    the start of the check that just ended; it never moves a check later than ``scheduled``.
    """
    if not is_confirming(streak):
        return scheduled
    return min(scheduled, recheck_due(started, now, pace))


def first_due_on_load(
    now: float, interval_s: float, pace: float, streak: Streak, rng: random.Random
) -> float:
    """A loaded monitor's first check: spread over the interval, or over the re-check pace when
    the monitor was mid-confirmation (a restart must not postpone a pending down or up)."""
    spread = pace if is_confirming(streak) else interval_s
    return now + rng.uniform(0, spread)
