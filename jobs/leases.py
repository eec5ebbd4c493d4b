"""Singleton leases: at most one process per database does a given kind of background work.

The probe engine and the alert sender must not run twice on one database, whatever starts them
(``sitecare run`` twice, a hand-started ``sitecare probe-engine`` beside it, an orphan of a
killed supervisor, a second machine on the same PostgreSQL). Each takes a named
:class:`~jobs.models.Lease` row before it works:

1. Taking the lease is a conditional UPDATE: it succeeds when the lease is free, expired, or
   already ours, so two processes starting at once cannot both win. Expiry is written and
   judged on the **database's clock** (``NOW()``), never a machine's own, so a machine whose
   clock runs ahead cannot take a live lease.
2. The holder renews it every third of its time to live (counted on its monotonic clock, so a
   wall-clock step changes nothing). A renewal is the same conditional UPDATE on "still ours":
   a holder that finds the lease taken stops working; one that could not reach the database
   for the lease's whole life stops too, since another may have taken it by then.
3. A holder that stops cleanly releases it. One that died (SIGKILL, power loss) is waited out
   until its lease expires, or taken over at once when it provably ran on this machine in the
   same PID namespace and its process is gone: the holder names its host, boot, PID namespace,
   pid and process start time, so neither a reused pid nor a live process in another container
   is ever mistaken for it.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import DateTimeField, DurationField, ExpressionWrapper, Q, Value
from django.db.models.expressions import Combinable
from django.db.models.functions import Now

from jobs.models import Lease
from sitecare.lib.logthrottle import ThrottledLog
from sitecare.lib.procinfo import process_start_time

logger = logging.getLogger("sitecare.leases")

# While waiting for a lease, say so at most this often (the first time at once).
WAIT_REPORT_SECONDS = 60.0
_UNREADABLE = ThrottledLog(logger, "reading a lease")


@dataclass(frozen=True)
class Holder:
    """Which process holds a lease: host, boot id, PID namespace, pid and start time."""

    host: str
    boot: str
    pidns: str
    pid: int
    started: str

    def key(self) -> str:
        return f"{self.host} {self.boot} {self.pidns} {self.pid} {self.started}"

    @classmethod
    def parse(cls, key: str) -> Holder | None:
        parts = key.rsplit(" ", 4)
        if len(parts) != 5 or not parts[3].isdigit():
            return None
        return cls(parts[0], parts[1], parts[2], int(parts[3]), parts[4])

    def is_gone(self) -> bool:
        """True only when this holder surely no longer runs.

        It ran on this machine (same host and boot) in this PID namespace, and its pid is
        gone or belongs to a process started at another time; or the machine rebooted since.
        A holder elsewhere (another machine, another container), or where /proc cannot tell,
        is never taken as gone: its lease is waited out.
        """
        here = this_process()
        if self.host != here.host or not self.boot or not here.boot:
            return False
        if self.boot != here.boot:
            return True  # the machine rebooted since: every process of that boot is gone
        if not self.pidns or self.pidns != here.pidns:
            return False
        started = process_start_time(self.pid)
        return started is not None and started != self.started


def _read(path: str) -> str:
    try:
        with open(path, encoding="ascii") as handle:
            return handle.read().strip()
    except OSError:
        return ""


def _pid_namespace() -> str:
    try:
        return str(os.stat("/proc/self/ns/pid").st_ino)
    except OSError:
        return ""


@cache
def this_process() -> Holder:
    pid = os.getpid()
    return Holder(
        host=socket.gethostname()[:100],
        boot=_read("/proc/sys/kernel/random/boot_id")[:36],
        pidns=_pid_namespace(),
        pid=pid,
        started=process_start_time(pid) or "",
    )


@dataclass
class Refusal:
    """Who holds a lease we could not take, and until when (the database's clock)."""

    holder: Holder | None
    key: str
    expires_at: datetime | None

    def describe(self) -> str:
        who = (
            f"pid {self.holder.pid} on {self.holder.host}"
            if self.holder
            else (self.key or "another process")
        )
        until = f" until {self.expires_at:%Y-%m-%d %H:%M:%S %Z}" if self.expires_at else ""
        return f"{who} holds it{until}"


class SingletonLease:
    """One named lease as seen by the process that wants it (see the module docstring).

    ``now`` arguments exist for tests, which pin the database's clock with them; in use the
    database's own clock decides.
    """

    def __init__(
        self,
        name: str,
        ttl_seconds: float,
        holder: Holder | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self.ttl = timedelta(seconds=ttl_seconds)
        self.me = (holder or this_process()).key()
        self._monotonic = monotonic
        # When we last took or renewed it (monotonic seconds); None when we do not hold it.
        self.renewed_mono: float | None = None

    @property
    def held(self) -> bool:
        return self.renewed_mono is not None

    def ran_out(self) -> bool:
        """True when we hold it but have not renewed it for its whole life."""
        mono = self.renewed_mono
        return mono is not None and self._monotonic() - mono >= self.ttl.total_seconds()

    # --- taking, keeping and giving back --------------------------------------------------

    def try_acquire(self, now: datetime | None = None) -> Refusal | None:
        """Take the lease if it is free, expired, ours, or held by a process that is gone.

        Returns None when taken, otherwise who holds it.
        """
        self._ensure_row()
        clock = db_clock(now)
        free = Q(holder="") | Q(holder=self.me) | Q(expires_at__isnull=True)
        free |= Q(expires_at__lte=clock)
        if self._take(free, clock):
            return None
        current = Lease.objects.filter(name=self.name).values("holder", "expires_at").first()
        key = current["holder"] if current else ""
        holder = Holder.parse(key)
        if holder is not None and holder.is_gone() and self._take(Q(holder=key), clock):
            logger.warning(
                "%s: took over the lease of pid %s on %s, which is no longer running",
                self.name,
                holder.pid,
                holder.host,
            )
            return None
        expires_at = current["expires_at"] if current else None
        return Refusal(holder=holder, key=key, expires_at=expires_at)

    def renew(self, now: datetime | None = None) -> bool:
        """Move our lease's expiry forward; False (and no longer held) when it is not ours."""
        mine = Lease.objects.filter(name=self.name, holder=self.me)
        if mine.update(expires_at=db_expiry(db_clock(now), self.ttl)) == 1:
            self.renewed_mono = self._monotonic()
            return True
        self.renewed_mono = None
        return False

    def renew_if_due(self, now: datetime | None = None) -> bool:
        """Renew when a third of the lease's time has passed since the last renewal; False
        when the lease is not ours (never taken, or taken by another process). Past its
        expiry it is still renewed if nobody took it: then nobody else worked meanwhile."""
        mono = self.renewed_mono
        if mono is None:
            return False
        if self._monotonic() - mono < self.ttl.total_seconds() / 3:
            return True
        return self.renew(now)

    def release(self) -> None:
        """Give the lease back (only if it is still ours)."""
        Lease.objects.filter(name=self.name, holder=self.me).update(holder="", expires_at=None)
        self.renewed_mono = None

    # --- waiting -----------------------------------------------------------------------------

    def wait_until_acquired(
        self,
        stopping: Callable[[], bool],
        sleep: Callable[[float], object],
        *,
        what: str,
        poll_seconds: float | None = None,
    ) -> bool:
        """Block until the lease is ours (True) or ``stopping()`` says to give up (False).

        Says once, then every minute, which process holds it, so an operator who started a
        second engine sees why it does nothing; a database that cannot be read meanwhile is
        said once a minute too, not at every poll.
        """
        poll = poll_seconds if poll_seconds is not None else _poll_seconds(self.ttl)
        reported_at: float | None = None
        while not stopping():
            try:
                refusal = self.try_acquire()
            except DatabaseError as exc:
                # Busy or briefly unreachable: the database decides who holds it, so ask again.
                _UNREADABLE.failure(exc)
                sleep(poll)
                continue
            if refusal is None:
                if reported_at is not None:
                    logger.warning("%s: the lease is ours now; starting", what)
                return True
            if reported_at is None or self._monotonic() - reported_at >= WAIT_REPORT_SECONDS:
                reported_at = self._monotonic()
                logger.warning(
                    "%s: another %s already runs on this database (%s); waiting for it to "
                    "stop before starting",
                    what,
                    what,
                    refusal.describe(),
                )
            sleep(poll)
        return False

    # --- internals ---------------------------------------------------------------------------

    def _ensure_row(self) -> None:
        if Lease.objects.filter(name=self.name).exists():
            return
        try:
            with transaction.atomic():
                Lease.objects.create(name=self.name)
        except IntegrityError:
            pass  # another process created it first: the row is there either way

    def _take(self, condition: Q, clock: Combinable) -> bool:
        taken = Lease.objects.filter(condition, name=self.name).update(
            holder=self.me, acquired_at=clock, expires_at=db_expiry(clock, self.ttl)
        )
        if taken == 1:
            self.renewed_mono = self._monotonic()
            return True
        return False


def db_clock(now: datetime | None) -> Combinable:
    """The database's clock, or a pinned moment (tests)."""
    return Now() if now is None else Value(now, output_field=DateTimeField())


def db_expiry(clock: Combinable, ttl: timedelta) -> ExpressionWrapper:
    return ExpressionWrapper(
        clock + Value(ttl, output_field=DurationField()), output_field=DateTimeField()
    )


def _poll_seconds(ttl: timedelta) -> float:
    return max(0.2, min(5.0, ttl.total_seconds() / 6))
