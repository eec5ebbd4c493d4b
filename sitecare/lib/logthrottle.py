"""Logging a failure that repeats: one line per kind of failure per interval, with a count.

A database that refuses writes refuses every ping; a traceback each would bury the log (the
outside review counted 5,286 traceback lines in a minute) and hide the one line an operator
needs. :class:`ThrottledLog` says the first failure of a kind at once, then counts the
others, and says how many there were once the interval is over.
"""

from __future__ import annotations

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

    def failure(self, exc: BaseException) -> None:
        """Record one failure; its kind is the exception's type and first line."""
        kind = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}".strip()
        now = self.clock()
        with self._lock:
            episode = self._episodes.get(kind)
            if episode is not None and now - episode.started < self.interval:
                episode.suppressed += 1
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
        if self.interval > 0:
            timer = threading.Timer(self.interval, self._close, args=(kind, now))
            timer.daemon = True
            timer.start()

    def flush(self) -> None:
        """Say the counts of every open episode now (tests, and a process that stops)."""
        with self._lock:
            episodes, self._episodes = self._episodes, {}
        for kind, episode in episodes.items():
            if episode.suppressed:
                self._summary(kind, episode.suppressed)

    def _close(self, kind: str, started: float) -> None:
        """The interval of an episode is over: say its count, if any, and forget it."""
        with self._lock:
            episode = self._episodes.get(kind)
            if episode is None or episode.started != started:
                return
            del self._episodes[kind]
        if episode.suppressed:
            self._summary(kind, episode.suppressed)

    def _summary(self, kind: str, count: int) -> None:
        self.logger.warning(
            "%s failed %d more time(s) in the last %.0f s: %s",
            self.what,
            count,
            self.interval,
            kind,
        )
