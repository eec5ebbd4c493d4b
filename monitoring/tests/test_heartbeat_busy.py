"""Pings while another process holds the database's write lock (a long migration, a backup,
a full disk): each answers 503 with Retry-After quickly, the web server's threads stay free
for people, and the log says what happened in one line per kind of failure, not per ping.

The real server (gunicorn with the workers and threads ``sitecare run`` uses) over its own
SQLite file; the lock is held by a plain ``sqlite3`` connection in ``BEGIN IMMEDIATE``.
"""

from __future__ import annotations

import http.client
import socket
import sqlite3
import struct
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from monitoring.tests.test_heartbeat_durability import (
    PINGS,
    SENDERS,
    server,
    status_of,
    stored_markers,
)

# The durability test's real server over a migrated SQLite file, as fixtures here too.
__all__ = ["server"]

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


def slow_body(port: int, token: str) -> socket.socket:
    """A ping whose body never finishes arriving (a job on a bad link, or a mischief)."""
    sock = socket.create_connection(("127.0.0.1", port))
    sock.sendall(
        (
            f"POST /ping/{token} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\n"
            "Content-Length: 5000\r\n\r\nfirst bytes"
        ).encode()
    )
    return sock


def reset_mid_body(port: int, token: str) -> None:
    """Send part of a body, then reset the connection (as a killed job does)."""
    sock = slow_body(port, token)
    time.sleep(0.2)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def test_it_lets_other_pings_through_while_a_slow_body_trickles_in(server):
    web, tokens, _db = server
    trickling = [slow_body(web.port, tokens[50 + i]) for i in range(2)]
    try:
        time.sleep(0.5)  # both are read by now, one thread each
        answers = [timed_ping(web.port, f"/ping/{tokens[i]}", "x") for i in range(8)]
    finally:
        for sock in trickling:
            sock.close()
    assert [status for status, _r, _t in answers] == [200] * 8, answers


def test_it_does_not_turn_pings_away_after_a_client_dropped_its_body(server):
    web, tokens, _db = server
    for i in range(6):
        reset_mid_body(web.port, tokens[60 + i])
    time.sleep(0.3)
    answers = [timed_ping(web.port, f"/ping/{tokens[i]}", "x") for i in range(10)]
    assert [status for status, _r, _t in answers] == [200] * 10, answers
    assert "Traceback" not in Path(web.log).read_text(errors="replace")


def test_it_stores_a_burst_though_another_write_holds_the_lock_two_seconds(server):
    """sitecare's own writes can hold the lock a second or two (an engine flush after an
    outage, ``sitecare apply``): pings wait for it instead of being turned away."""
    web, tokens, db = server
    started = threading.Event()

    def long_write() -> None:
        time.sleep(1.0)  # well into the burst
        conn = sqlite3.connect(db, timeout=30, isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        started.set()
        time.sleep(2.2)
        conn.execute("COMMIT")
        conn.close()

    writer = threading.Thread(target=long_write)
    writer.start()
    with ThreadPoolExecutor(SENDERS) as pool:
        statuses = list(
            pool.map(
                lambda i: status_of(web.port, f"/ping/{tokens[i % len(tokens)]}", b"b"),
                range(PINGS),
            )
        )
    writer.join()
    assert started.is_set()
    counts = Counter(statuses)
    assert counts[200] >= 0.95 * PINGS, counts
