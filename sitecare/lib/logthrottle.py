"""Logging a failure that repeats: one line per kind of failure per interval, with a count.

A database that refuses writes refuses every ping; a traceback each would bury the log (the
outside review counted 5,286 traceback lines in a minute) and hide the one line an operator
needs. :class:`ThrottledLog` says the first failure of a kind at once, then counts the
others, and says how many there were once the interval is over: one sweeper thread per log
(started when something is counted, ended when nothing is left to say), and whatever is still
counted when the process exits is said then.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class _Episode:
    started: float
    suppressed: int = 0


class ThrottledLog:
    """Log each kind of failure at most once per ``interval`` seconds, then its count."""

    def __init__(
        self,
        logger: logging.Logger,
        what: str,
        interval: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.logger = logger
        self.what = what
        self.interval = interval
        self.clock = clock
        self._episodes: dict[str, _Episode] = {}
        self._lock = threading.Lock()
        self._sweeper: threading.Thread | None = None
        atexit.register(self.flush)

    def failure(self, exc: BaseException) -> None:
        """Record one failure; its kind is the exception's type and first line."""
        text = str(exc).splitlines()[0] if str(exc) else ""
        kind = f"{type(exc).__name__}: {text}".strip()
        now = self.clock()
        with self._lock:
            episode = self._episodes.get(kind)
            if episode is not None and now - episode.started < self.interval:
                episode.suppressed += 1
                self._start_sweeper()
                return
            self._episodes[kind] = _Episode(started=now)
        if episode is not None and episode.suppressed:
            self._summary(kind, episode.suppressed)
        self.logger.warning(
            "%s failed: %s (the same failure is counted, not logged, for %.0f s)",
            self.what,
            kind,
            self.interval,
        )

    def flush(self) -> None:
        """Say the counts of every open episode now (at exit, and for tests)."""
        with self._lock:
            episodes, self._episodes = self._episodes, {}
        for kind, episode in episodes.items():
            if episode.suppressed:
                self._summary(kind, episode.suppressed)

    def sweep(self) -> float | None:
        """Say and forget the episodes whose interval is over; seconds until the next one
        ends, or None when none is left."""
        now = self.clock()
        with self._lock:
            over = {k: e for k, e in self._episodes.items() if now - e.started >= self.interval}
            for kind in over:
                del self._episodes[kind]
            left = [e.started + self.interval - now for e in self._episodes.values()]
        for kind, episode in over.items():
            if episode.suppressed:
                self._summary(kind, episode.suppressed)
        return min(left) if left else None

    def _start_sweeper(self) -> None:
        """Start the one sweeper thread if it is not running (the lock is held)."""
        if self._sweeper is not None and self._sweeper.is_alive():
            return
        self._sweeper = threading.Thread(target=self._sweep_until_empty, daemon=True)
        self._sweeper.start()

    def _sweep_until_empty(self) -> None:
        while (wait := self.sweep()) is not None:
            time.sleep(max(wait, 0.01))

    def _summary(self, kind: str, count: int) -> None:
        self.logger.warning(
            "%s failed %d more time(s) in the last %.0f s: %s",
            self.what,
            count,
            self.interval,
            kind,
        )
