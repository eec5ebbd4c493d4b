"""The keep-alive pool of the outbound client: idle connections, and the bound on open ones.

Idle connections are keyed by (scheme, host, port, allowlist key, TLS context): a connection
opened under one organization's allowlist, or verified under one TLS setting, never serves a
request made under another. An idle connection is dropped when the server closes it, when it
has been idle :data:`IDLE_SECONDS` (servers close theirs after a few seconds: reusing one
just as it closes would cost a retry), or when the pool closes.

``limit`` (0 = unbounded) bounds every open connection, idle ones included: at the limit, the
oldest idle connection is closed to make room, and only when none is idle does a request wait
for a connection to be given back or closed.
"""

from __future__ import annotations

import asyncio
import functools
import ssl
from collections import deque
from dataclasses import dataclass, field

from sitecare.lib.http_wire import WireProtocol

IDLE_SECONDS = 4.0

PoolKey = tuple[str, str, int, tuple[str, ...], ssl.SSLContext | None]


@dataclass(eq=False, slots=True)
class Connection:
    """An open HTTP/1.1 connection and the key it was opened under."""

    key: PoolKey
    transport: asyncio.Transport
    protocol: WireProtocol
    idle_since: float = 0.0
    dropped: bool = False

    def usable(self) -> bool:
        return not self.protocol.lost and not self.transport.is_closing()


@dataclass(eq=False)
class ConnectionPool:
    """Idle keep-alive connections by key, and the count of open ones against ``limit``."""

    limit: int = 0
    idle_seconds: float = IDLE_SECONDS
    _idle: dict[PoolKey, list[Connection]] = field(default_factory=dict)
    _open: int = 0
    _waiters: deque[asyncio.Future[None]] = field(default_factory=deque)
    _sweeper: asyncio.TimerHandle | None = None
    _closed: bool = False

    @property
    def open_count(self) -> int:
        """Connections open or being opened (idle ones included)."""
        return self._open

    def idle_count(self) -> int:
        return sum(len(idle) for idle in self._idle.values())

    def take(self, key: PoolKey, now: float) -> Connection | None:
        """The most recently used idle connection of ``key`` still worth using, or None."""
        idle = self._idle.get(key)
        while idle:
            conn = idle.pop()
            if not idle:
                del self._idle[key]
            conn.protocol.on_idle_lost = None
            if conn.usable() and now - conn.idle_since < self.idle_seconds:
                return conn
            self.drop(conn, graceful=True)
        return None

    async def reserve(self) -> None:
        """Count a connection about to be opened; wait while the limit is reached.

        1. Under the limit: count it and go.
        2. At the limit with an idle connection anywhere: close the oldest and go.
        3. Otherwise wait for a connection to be given back or closed, then look again.
        """
        while self.limit and self._open >= self.limit:
            if self._evict_oldest():
                continue
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                await waiter
            except BaseException:
                if waiter.done() and not waiter.cancelled():
                    self._wake_one()  # woken, then cancelled: pass the turn on
                raise
            finally:
                if waiter in self._waiters:
                    self._waiters.remove(waiter)
        self._open += 1

    def unreserve(self) -> None:
        """A reserved connection that was never opened."""
        self._open -= 1
        self._wake_one()

    def put_back(self, conn: Connection, now: float) -> None:
        """Keep a connection whose response was read in full for the next request."""
        if self._closed or conn.dropped or not conn.usable():
            self.drop(conn, graceful=True)
            return
        conn.idle_since = now
        conn.protocol.exchange = None
        conn.protocol.on_idle_lost = functools.partial(self._lost_while_idle, conn)
        self._idle.setdefault(conn.key, []).append(conn)
        if self._sweeper is None:
            loop = asyncio.get_running_loop()
            self._sweeper = loop.call_at(now + self.idle_seconds, self._sweep)
        if self._waiters:
            self._wake_one()  # a waiter may now close this one to make room

    def drop(self, conn: Connection, *, graceful: bool = False) -> None:
        """Close a connection (at once unless ``graceful``) and free its place."""
        if conn.dropped:
            return
        conn.dropped = True
        conn.protocol.on_idle_lost = None
        conn.protocol.exchange = None
        if graceful:
            conn.transport.close()
        else:
            conn.transport.abort()
        self._open -= 1
        self._wake_one()

    def close(self) -> None:
        """Close every idle connection; connections in use are closed when given back."""
        self._closed = True
        if self._sweeper is not None:
            self._sweeper.cancel()
            self._sweeper = None
        idle, self._idle = self._idle, {}
        for conns in idle.values():
            for conn in conns:
                self.drop(conn)  # shutting down: no TLS close_notify to wait for

    def _lost_while_idle(self, conn: Connection) -> None:
        idle = self._idle.get(conn.key)
        if idle is not None and conn in idle:
            idle.remove(conn)
            if not idle:
                del self._idle[conn.key]
        self.drop(conn)

    def _evict_oldest(self) -> bool:
        oldest: Connection | None = None
        for conns in self._idle.values():
            if oldest is None or conns[0].idle_since < oldest.idle_since:
                oldest = conns[0]
        if oldest is None:
            return False
        self._lost_while_idle(oldest)
        return True

    def _sweep(self) -> None:
        """Close connections idle too long; come back when the next one will be."""
        self._sweeper = None
        loop = asyncio.get_running_loop()
        now = loop.time()
        for key, conns in list(self._idle.items()):
            fresh = [conn for conn in conns if now - conn.idle_since < self.idle_seconds]
            for conn in conns:
                if now - conn.idle_since >= self.idle_seconds:
                    self.drop(conn, graceful=True)
            if fresh:
                self._idle[key] = fresh
            else:
                del self._idle[key]
        if self._idle:
            first = min(conns[0].idle_since for conns in self._idle.values())
            self._sweeper = loop.call_at(first + self.idle_seconds, self._sweep)

    def _wake_one(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
