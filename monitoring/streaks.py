"""The confirmation rules: how one more result advances a monitor's streak and state.

One pure function serves both sides: ``monitoring.logic`` applies it to the stored streak when
results are written, and the probe engine to its own mirror to pace re-checks in-loop
(``monitoring.engine.confirmation``), so the two can never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

from monitoring.models import MonitorState


@dataclass(frozen=True, slots=True)
class Streak:
    """A monitor's state and its running streak of agreeing results."""

    state: str = MonitorState.UNKNOWN
    streak_ok: bool | None = None
    streak_count: int = 0


def advance(streak: Streak, ok: bool, confirm_down: int, confirm_up: int) -> Streak:
    """The streak after one more result.

    1. Extend the streak if the result agrees with it, else start a new one at 1.
    2. A first success of an unknown monitor makes it up at once: there is nothing to confirm
       and nobody to alert.
    3. ``confirm_down`` consecutive failures flip to down, ``confirm_up`` consecutive
       successes while down flip to up.
    """
    count = streak.streak_count + 1 if streak.streak_ok is ok else 1
    state = streak.state
    if ok and (
        state == MonitorState.UNKNOWN or (state == MonitorState.DOWN and count >= confirm_up)
    ):
        state = MonitorState.UP
    elif not ok and state != MonitorState.DOWN and count >= confirm_down:
        state = MonitorState.DOWN
    return Streak(state, ok, count)
