"""Which ping may write now: pings queue for the database while writes flow, and stop
queueing while it refuses them, so they never hold all the web threads people's pages need.

SQLite has one writer at a time. Pings that arrive together (every cron job of an agency at
the top of the hour) should wait their turn, which is short while writes flow; a write of
sitecare's own that holds the lock a second or two (an engine flush after an outage, an
``apply``) must not cost them either. But when another process holds the lock for long (a
migration, a backup, a full disk), every waiting ping is a web thread lost to the UI. The gate
is a small circuit breaker, one per web process:

1. **Slots.** At most ``SLOTS`` pings of a process are past the gate at once (one fewer than
   its web threads, so one thread is always left for people); a ping waits up to
   ``SLOT_WAIT_S`` for a slot.
2. **Turns.** In a slot, one ping writes at a time; the others wait for their turn, and the
   writer waits for the database's lock up to ``LOCK_WAIT_S`` (not the usual 10 s).
3. **Refused.** A write that did not get the lock in that time is evidence that something
   holds it for long: the process then answers pings 503 at once for a pause, which starts at
   ``PAUSE_S`` and doubles while refusals go on (up to ``MAX_PAUSE_S``); pings waiting in a
   slot give up as soon as they get their turn.
4. **Probing.** After a pause one ping at a time tries again (no queue) until a write
   succeeds, which ends the refusal and the doubling.

Only the database refusing a write counts as a refusal: a client that sends its body slowly or
drops the connection is dealt with before the gate (the body is read first) and never pauses
anyone else.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from enum import Enum

SLOTS = 3
SLOT_WAIT_S = 0.5
LOCK_WAIT_S = 3.0
# A ping in a slot may wait for the writer before it for as long as that one may wait.
TURN_WAIT_S = LOCK_WAIT_S + 1.0
PAUSE_S = 2.0
MAX_PAUSE_S = 30.0


class Outcome(Enum):
    """How a write that had its turn went."""

    STORED = "stored"  # the database took it (or found the token gone): writes flow
    REFUSED = "refused"  # the database refused it (locked, busy, full): pause
    OTHER = "other"  # a failure that says nothing about the database: no change


class PingGate:
    """The breaker described in the module docstring (one per web process)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._slots = threading.BoundedSemaphore(SLOTS)
        self._turn = threading.Lock()
        self._clock = clock
        self.paused_until = 0.0
        self.pause = 0.0  # the current pause length; 0 while writes flow

    @property
    def suspect(self) -> bool:
        return self.pause > 0

    def retry_after(self) -> int:
        """Seconds a refused ping should wait (the rest of the pause, at least 1)."""
        return max(1, math.ceil(max(self.paused_until - self._clock(), self.pause)))

    def enter(self) -> bool:
        """Take a slot and the turn to write; False when the ping must be answered 503 now."""
        if self._clock() < self.paused_until:
            return False
        if not self._slots.acquire(timeout=SLOT_WAIT_S):
            return False
        if self.suspect:
            got = self._turn.acquire(blocking=False)  # probing: one at a time, no queue
        else:
            got = self._turn.acquire(timeout=TURN_WAIT_S)
        if got and self._clock() < self.paused_until:  # refused while this one waited
            self._turn.release()
            got = False
        if not got:
            self._slots.release()
        return got

    def leave(self, outcome: Outcome) -> None:
        """Give the turn and the slot back, after a write that went as ``outcome`` says."""
        if outcome is Outcome.STORED:
            self.pause = 0.0
        elif outcome is Outcome.REFUSED:
            self.pause = min(MAX_PAUSE_S, self.pause * 2 if self.pause else PAUSE_S)
            self.paused_until = self._clock() + self.pause
        self._turn.release()
        self._slots.release()

    def reset(self) -> None:
        """Forget a refusal (tests start each with a flowing gate)."""
        self.paused_until, self.pause = 0.0, 0.0
