"""Bounded waits for the database's write lock, for requests that must answer quickly.

The connection settings let a write wait up to 10 s for the lock (``busy_timeout``), right for
people's edits and the engine's batches. A heartbeat ping must not: a web thread waiting that
long is a thread the UI lacks, and a few slow pings block every page. Inside
:func:`lock_wait`, this connection waits at most the given time, then fails with the usual
``OperationalError`` ("database is locked"), which the caller answers as 503.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import DatabaseError, connections


@contextmanager
def lock_wait(seconds: float, using: str = "default") -> Iterator[None]:
    """Within the block, wait at most ``seconds`` for a lock on this thread's connection.

    1. SQLite: set the connection's ``busy_timeout`` and put the previous one back after.
    2. PostgreSQL: set ``lock_timeout`` for the session and reset it after.
    3. Other engines: no change (their own timeouts apply).
    4. If the usual wait cannot be put back, the connection is closed.
    """
    connection = connections[using]
    milliseconds = max(1, int(seconds * 1000))
    connection.ensure_connection()
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA busy_timeout")
            previous = int(cursor.fetchone()[0])
            cursor.execute(f"PRAGMA busy_timeout = {milliseconds}")
        restore = f"PRAGMA busy_timeout = {previous}"
    elif connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"SET lock_timeout = {milliseconds}")
        restore = "RESET lock_timeout"
    else:
        yield
        return
    try:
        yield
    finally:
        _restore(using, restore)


def _restore(using: str, statement: str) -> None:
    """Put the usual wait back; a connection that cannot take it is closed, so the next
    request opens a fresh one with the usual settings instead of inheriting the short wait."""
    connection = connections[using]
    if connection.connection is None:
        return
    try:
        with connection.cursor() as cursor:
            cursor.execute(statement)
    except DatabaseError:
        connection.close()
