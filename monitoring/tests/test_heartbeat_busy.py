"""Pings while another process holds the database's write lock (a long migration, a backup,
a full disk): each answers 503 with Retry-After quickly, the web server's threads stay free
for people, and the log says what happened in one line per kind of failure, not per ping.

The real server (gunicorn with the workers and threads ``sitecare run`` uses) over its own
SQLite file; the lock is held by a plain ``sqlite3`` connection in ``BEGIN IMMEDIATE``.
"""

from __future__ import annotations

import http.client
import sqlite3
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from monitoring.tests.test_heartbeat_durability import migrated_db, server, stored_markers

# The durability test's real server over a migrated SQLite file, as fixtures here too.
__all__ = ["migrated_db", "server"]

pytestmark = pytest.mark.timeout(120)
# The server's SQLite busy timeout: a ping waiting this long holds a web thread that long.
BUSY_TIMEOUT_S = 10.0


def timed_ping(port: int, path: str, marker: str) -> tuple[int, str | None, float]:
    """POST one ping; its status, Retry-After and how long the answer took."""
    started = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("POST", path, body=marker.encode(), headers={"Content-Type": "text/plain"})
        response = conn.getresponse()
        response.read()
        return response.status, response.getheader("Retry-After"), time.monotonic() - started
    finally:
        conn.close()


@pytest.fixture
def write_lock(server) -> Iterator[sqlite3.Connection]:
    _web, _tokens, db = server
    holder = sqlite3.connect(db, timeout=10, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    yield holder
    holder.execute("ROLLBACK")
    holder.close()


def test_it_answers_pings_503_quickly_while_the_write_lock_is_held(server, write_lock):
    web, tokens, db = server
    # Twice as many pings as the server has threads (2 workers x 4), all at once.
    with ThreadPoolExecutor(16) as pool:
        answers = list(
            pool.map(lambda i: timed_ping(web.port, f"/ping/{tokens[i]}", f"locked-{i}"), range(16))
        )
    statuses = {status for status, _retry, _took in answers}
    assert statuses == {503}, answers
    assert all(retry and int(retry) > 0 for _s, retry, _t in answers), answers
    slowest = max(took for _s, _r, took in answers)
    # The requirement is "well before the busy timeout", not a speed target: the bound is
    # half of it, where today's server needs the whole 10 s for the first 8 pings.
    assert slowest < BUSY_TIMEOUT_S / 2, answers

    write_lock.execute("ROLLBACK")
    write_lock.execute("BEGIN")  # the fixture's ROLLBACK needs a transaction to end
    # As a job honouring Retry-After would: the lock is gone, so a ping soon gets through.
    deadline = time.monotonic() + 10
    status = 0
    while status != 200 and time.monotonic() < deadline:
        status, _retry, _took = timed_ping(web.port, f"/ping/{tokens[0]}", "after-lock")
        time.sleep(0.2)
    assert status == 200
    assert "after-lock" in stored_markers(db)
    assert not {f"locked-{i}" for i in range(16)} & stored_markers(db)


def test_it_logs_one_line_per_kind_of_failure_not_a_traceback_per_ping(server, write_lock):
    web, tokens, _db = server
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda i: timed_ping(web.port, f"/ping/{tokens[i]}", "x"), range(40)))
    log = Path(web.log).read_text(errors="replace")
    assert "Traceback" not in log
    refused = [line for line in log.splitlines() if "storing a ping" in line.lower()]
    assert 1 <= len(refused) <= 2, log  # the first at once; the rest counted into one later
    assert "database is locked" in refused[0]
