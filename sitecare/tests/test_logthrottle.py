"""A repeating failure is logged once per interval and kind, then counted."""

from __future__ import annotations

import logging
import sqlite3
import threading
import time

from sitecare.lib.logthrottle import ThrottledLog


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_it_logs_the_first_failure_of_a_kind_and_counts_the_rest(caplog):
    clock = Clock()
    log = ThrottledLog(logging.getLogger("test.throttle"), "storing a ping", 60, clock)
    locked = sqlite3.OperationalError("database is locked")
    full = sqlite3.OperationalError("database or disk is full")
    with caplog.at_level(logging.WARNING, "test.throttle"):
        for _ in range(500):
            log.failure(locked)
        log.failure(full)
        clock.now += 61
        log.failure(locked)
        log.flush()
    lines = [r.getMessage() for r in caplog.records]
    assert lines == [
        "storing a ping failed: OperationalError: database is locked "
        "(the same failure is counted, not logged, for 60 s)",
        "storing a ping failed: OperationalError: database or disk is full "
        "(the same failure is counted, not logged, for 60 s)",
        "storing a ping failed 499 more time(s) in the last 60 s: "
        "OperationalError: database is locked",
        "storing a ping failed: OperationalError: database is locked "
        "(the same failure is counted, not logged, for 60 s)",
    ]
    assert all(r.exc_info is None for r in caplog.records)  # no tracebacks


def test_it_says_the_count_when_the_interval_ends_without_another_failure(caplog):
    log = ThrottledLog(logging.getLogger("test.throttle"), "storing a ping", interval=0.05)
    with caplog.at_level(logging.WARNING, "test.throttle"):
        for _ in range(3):
            log.failure(TimeoutError("slow"))
        deadline = time.monotonic() + 5
        while len(caplog.records) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
    assert caplog.records[-1].getMessage() == (
        "storing a ping failed 2 more time(s) in the last 0 s: TimeoutError: slow"
    )


def test_it_counts_many_kinds_with_one_thread(caplog):
    log = ThrottledLog(logging.getLogger("test.throttle"), "storing a ping", interval=0.2)
    before = threading.active_count()
    with caplog.at_level(logging.WARNING, "test.throttle"):
        for kind in range(50):
            for _ in range(3):
                log.failure(ValueError(f"kind {kind}"))
        assert threading.active_count() <= before + 1
        deadline = time.monotonic() + 5
        while len(caplog.records) < 100 and time.monotonic() < deadline:
            time.sleep(0.01)
    summaries = [r.getMessage() for r in caplog.records if "more time(s)" in r.getMessage()]
    assert len(summaries) == 50 and all("failed 2 more" in s for s in summaries)
