"""Which ping may write now: pings queue for the database briefly, and stop queueing while it
refuses writes, so they never hold the web threads that people's pages need.

SQLite has one writer at a time. Pings that arrive together (every cron job of an agency at
the top of the hour) should wait their turn, which is short while writes flow; but when another
process holds the write lock for long (a migration, a backup, a full disk), every waiting ping
is a web thread lost to the UI. The gate is a small circuit breaker, per web process:

1. **Flowing**: one ping writes at a time per process; the others wait for their turn up to
   ``TURN_WAIT_S``, and the writer waits for the database's lock up to ``LOCK_WAIT_S`` (not the
   usual 10 s busy timeout).
2. **Refused**: a write that could not get the lock (or failed otherwise) makes the process
   answer every ping 503 at once for ``PAUSE_S``; pings already waiting for their turn give up
   as soon as they get it.
3. **Probing**: after the pause one ping at a time tries again (no queue) until a write
   succeeds, which makes the gate flow again.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

# How long a ping waits for its turn, and its write for the database's lock (seconds).
TURN_WAIT_S = 2.0
LOCK_WAIT_S = 2.0
# After a refusal: how long pings are answered 503 without trying (the Retry-After we send).
PAUSE_S = 5.0


class PingGate:
    """The breaker described in the module docstring (one per web process)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._turn = threading.Lock()
        self._clock = clock
        self.paused_until = 0.0
        self.suspect = False

    def enter(self) -> bool:
        """Take the turn to write; False when the ping must be answered 503 now."""
        if self._clock() < self.paused_until:
            return False
        if self.suspect:
            got = self._turn.acquire(blocking=False)  # probing: one at a time, no queue
        else:
            got = self._turn.acquire(timeout=TURN_WAIT_S)
        if got and self._clock() < self.paused_until:  # refused while this one waited
            self._turn.release()
            return False
        return got

    def leave(self, *, stored: bool) -> None:
        """Give the turn back; ``stored`` says whether the database took the write."""
        if stored:
            self.suspect = False
        else:
            self.suspect = True
            self.paused_until = self._clock() + PAUSE_S
        self._turn.release()

    def reset(self) -> None:
        """Forget a refusal (tests start each with a flowing gate)."""
        self.paused_until, self.suspect = 0.0, False
