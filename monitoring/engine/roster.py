"""The engine's roster: which monitors it checks, when each is due, and each streak's mirror.

Plain synchronous bookkeeping, no I/O: :class:`monitoring.engine.core.ProbeEngine` hands it
the monitors it loaded and the outcomes of its checks, and asks it which checks are due. It
keeps the due-time heap (:mod:`monitoring.engine.schedule`), each monitor's fixed-rate turn,
and the mirror of each monitor's state and streak that sets the re-check pace
(:mod:`monitoring.engine.confirmation`).
"""

from __future__ import annotations

import random
from collections.abc import Callable

from monitoring.engine.confirmation import due_after_outcome, first_due_on_load, recheck_pace
from monitoring.engine.schedule import Schedule, turn_after
from monitoring.engine.target import CheckTarget
from monitoring.streaks import Streak, advance


class Roster:
    """The monitors to check, their due times, turns and mirrored streaks."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.schedule = Schedule()
        self.targets: dict[int, CheckTarget] = {}
        # Mirror of each monitor's state and streak: decides the re-check pace in-loop.
        self.streaks: dict[int, Streak] = {}
        # Each monitor's next fixed-rate turn; re-checks come between turns, never shift them.
        self._turns: dict[int, float] = {}

    def apply(
        self,
        targets: dict[int, CheckTarget],
        streaks: dict[int, Streak],
        now: float,
        *,
        mirror_is_newer: Callable[[int], bool],
    ) -> list[int]:
        """Bring the roster in line with the monitors loaded; return the ids that left it.

        1. Deleted or disabled monitors leave the schedule (the engine cancels their checks).
        2. New monitors get their first check anywhere within their interval (jitter), so a
           start or a bulk import never fires everything at once; one that was mid-confirmation
           (say, down but recovering, when the engine restarted) within its re-check pace.
        3. A monitor whose interval changed is spread again; other edits keep their turn.
        4. A loaded streak replaces the mirror unless ``mirror_is_newer`` says the engine
           holds outcomes of the monitor that the database had not seen when it was read.
        """
        gone = list(self.targets.keys() - targets.keys())
        for monitor_id in gone:
            self.schedule.remove(monitor_id)
            self.streaks.pop(monitor_id, None)
            self._turns.pop(monitor_id, None)
        for monitor_id, target in targets.items():
            loaded = streaks.get(monitor_id)
            if loaded is not None and not (
                monitor_id in self.streaks and mirror_is_newer(monitor_id)
            ):
                self.streaks[monitor_id] = loaded
            old = self.targets.get(monitor_id)
            if old is None or old.interval_s != target.interval_s:
                streak = self.streaks.get(monitor_id, Streak())
                due = first_due_on_load(now, target.interval_s, pace(target), streak, self.rng)
                self._turns.pop(monitor_id, None)
                self.schedule.put(monitor_id, due)
        self.targets = targets
        return gone

    def take_due(self, now: float, limit: int) -> list[tuple[CheckTarget, float]]:
        """Up to ``limit`` monitors due at ``now`` (target and due time), each rescheduled.

        Each is put back at its next fixed-rate turn; a re-check (due before the turn) leaves
        the turn where it was, so confirming never shifts a monitor's phase. The rest wait in
        the heap, keeping their due time.
        """
        taken: list[tuple[CheckTarget, float]] = []
        for monitor_id, due in self.schedule.pop_due(now, limit):
            target = self.targets[monitor_id]
            turn = turn_after(due, self._turns.get(monitor_id, due), target.interval_s, now)
            self._turns[monitor_id] = turn
            self.schedule.put(monitor_id, turn)
            taken.append((target, due))
        return taken

    def advance(self, monitor_id: int, ok: bool, started: float, now: float) -> bool:
        """Advance the monitor's mirrored streak by an outcome; True if its next check moved.

        While a flip awaits confirmation the next check comes forward to the re-check pace
        (never later than the next regular turn).
        """
        target = self.targets[monitor_id]
        streak = advance(
            self.streaks.get(monitor_id, Streak()), ok, target.confirm_down, target.confirm_up
        )
        self.streaks[monitor_id] = streak
        scheduled = self.schedule.due_of(monitor_id)
        if scheduled is None:
            return False
        due = due_after_outcome(scheduled, streak, started, now, pace(target))
        if due == scheduled:
            return False
        self.schedule.put(monitor_id, due)
        return True


def pace(target: CheckTarget) -> float:
    """The target's re-check pace while a flip awaits confirmation."""
    return recheck_pace(target.interval_s, target.confirm_down, target.recheck_s)
