"""One probe engine per database: the engine's hold on its lease (``jobs.leases``).

The engine waits for the lease before it checks anything, renews it at every beat, stops when
another engine has taken it (or when it could not renew before it ran out), and gives it back
when it stops. A second engine started on the same database therefore waits, saying which
process holds the lease, instead of checking every monitor a second time.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar

from jobs.leases import SingletonLease

logger = logging.getLogger("sitecare.engine")

T = TypeVar("T")


class RunInDb(Protocol):
    def __call__(self, fn: Callable[[], T], /) -> Awaitable[T]: ...


NAME = "probe-engine"
# The lease lives this many beats and is renewed at every beat.
BEATS = 3


class EngineLease:
    """The lease as the engine uses it: acquired on its database thread, kept by its beats."""

    def __init__(self, beat_seconds: float, run_in_db: RunInDb) -> None:
        self.lease = SingletonLease(NAME, BEATS * beat_seconds)
        self._run_in_db = run_in_db
        # The engine's stop, as seen by the database thread that waits for the lease.
        self.stop_seen = threading.Event()
        # True once the engine stopped because its lease was lost (its command exits 1).
        self.lost = False

    async def acquire(self) -> bool:
        """Wait until the lease is ours (True), or until a stop is asked (False)."""
        return await self._run_in_db(self._wait)

    def _wait(self) -> bool:
        return self.lease.wait_until_acquired(
            self.stop_seen.is_set, self.stop_seen.wait, what="probe engine"
        )

    async def keep(self) -> bool:
        """Renew the lease; False when this engine must stop (another one holds it now, or it
        ran out while the database refused the renewal). Engines driven step by step (tests)
        never acquired it and always keep going."""
        if not self.lease.held:
            return not self.lost
        try:
            if await self._run_in_db(lambda: self.lease.renew()):
                return True
            logger.error("probe engine: another engine took over its lease; stopping this one")
        except Exception:
            if not self.lease.ran_out():
                logger.exception("renewing the probe engine's lease failed; will retry")
                return True
            logger.exception("probe engine: its lease ran out before it could renew; stopping")
        self.lost = True
        return False

    async def release(self) -> None:
        if not self.lease.held:
            return
        try:
            await self._run_in_db(self.lease.release)
        except Exception:  # it then runs out by itself; the next engine waits that long
            logger.exception("releasing the probe engine's lease failed")
