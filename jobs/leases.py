"""Singleton leases: at most one process per database does a given kind of background work.

The probe engine and the alert sender must not run twice on one database, whatever starts them
(``sitecare run`` twice, a hand-started ``sitecare probe-engine`` beside it, an orphan of a
killed supervisor). Each takes a named :class:`~jobs.models.Lease` row before it works:

1. Taking the lease is a conditional UPDATE: it succeeds when the lease is free, expired, or
   already ours, so two processes starting at once cannot both win.
2. The holder renews it well before it expires (every third of its time to live). A holder
   that cannot renew in time stops working: by then another process may hold it.
3. A holder that stops cleanly releases it. One that died (SIGKILL, power loss) is waited out
   until its lease expires, or taken over at once when it ran on this machine and its process
   is gone: the holder names its host, boot, pid and process start time, so a reused pid
   is never mistaken for it.
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
from pathlib import Path

from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from jobs.models import Lease

logger = logging.getLogger("sitecare.leases")

# While waiting for a lease, say so at most this often (the first time at once).
WAIT_REPORT_SECONDS = 60.0


@dataclass(frozen=True)
class Holder:
    """Which process holds a lease: host name, boot id, pid and the process's start time."""

    host: str
    boot: str
    pid: int
    started: str

    def key(self) -> str:
        return f"{self.host} {self.boot} {self.pid} {self.started}"

    @classmethod
    def parse(cls, key: str) -> Holder | None:
        parts = key.rsplit(" ", 3)
        if len(parts) != 4 or not parts[2].isdigit():
            return None
        return cls(host=parts[0], boot=parts[1], pid=int(parts[2]), started=parts[3])

    def is_gone(self) -> bool:
        """True only when this holder surely no longer runs: it ran on this machine (same
        host and boot) and its pid is gone or belongs to a process started at another time.
        A holder on another machine, or where /proc cannot tell, is never taken as gone."""
        here = this_process()
        if self.host != here.host or not self.boot or not here.boot:
            return False
        if self.boot != here.boot:
            return True  # the machine rebooted since: every process of that boot is gone
        return _start_time(self.pid) != self.started


def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()[:36]
    except OSError:
        return ""


def _start_time(pid: int) -> str:
    """The process's start time in clock ticks after boot (/proc/PID/stat field 22), or ""."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    fields = stat.rsplit(")", 1)[1].split()
    # After the name: state is field 3, so field 22 (starttime) is index 19 here.
    return fields[19] if len(fields) > 19 and fields[0] != "Z" else ""


@cache
def this_process() -> Holder:
    pid = os.getpid()
    return Holder(
        host=socket.gethostname()[:120], boot=_boot_id(), pid=pid, started=_start_time(pid)
    )


@dataclass
class Refusal:
    """Who holds a lease we could not take, and until when."""

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
    """One named lease as seen by the process that wants it (see the module docstring)."""

    def __init__(self, name: str, ttl_seconds: float, holder: Holder | None = None) -> None:
        self.name = name
        self.ttl = timedelta(seconds=ttl_seconds)
        self.me = (holder or this_process()).key()
        # Until when we hold it, as far as we know; None when we do not hold it.
        self.held_until: datetime | None = None
        self.renewed_at: datetime | None = None

    # --- taking, keeping and giving back --------------------------------------------------

    def try_acquire(self, now: datetime | None = None) -> Refusal | None:
        """Take the lease if it is free, expired, ours, or held by a process that is gone.

        Returns None when taken, otherwise who holds it.
        """
        now = now or timezone.now()
        self._ensure_row()
        free = (
            Q(holder="") | Q(holder=self.me) | Q(expires_at__isnull=True) | Q(expires_at__lte=now)
        )
        if self._take(free, now):
            return None
        current = Lease.objects.filter(name=self.name).values("holder", "expires_at").first()
        key = current["holder"] if current else ""
        holder = Holder.parse(key)
        if holder is not None and holder.is_gone() and self._take(Q(holder=key), now):
            logger.warning(
                "%s: took over the lease of pid %s on %s, which is no longer running",
                self.name,
                holder.pid,
                holder.host,
            )
            return None
        return Refusal(
            holder=holder, key=key, expires_at=current["expires_at"] if current else None
        )

    def renew(self, now: datetime | None = None) -> bool:
        """Move our lease's expiry forward; False when it is no longer ours."""
        now = now or timezone.now()
        expires = now + self.ttl
        mine = Lease.objects.filter(name=self.name, holder=self.me)
        if mine.update(expires_at=expires) == 1:
            self.held_until, self.renewed_at = expires, now
            return True
        self.held_until = None
        return False

    def renew_if_due(self, now: datetime | None = None) -> bool:
        """Renew when a third of the lease's time has passed since the last renewal; False
        when the lease is lost (taken by another process, or expired before we could renew)."""
        now = now or timezone.now()
        if self.held_until is None or now >= self.held_until:
            self.held_until = None
            return False
        if self.renewed_at is not None and now - self.renewed_at < self.ttl / 3:
            return True
        return self.renew(now)

    def release(self) -> None:
        """Give the lease back (only if it is still ours)."""
        Lease.objects.filter(name=self.name, holder=self.me).update(holder="", expires_at=None)
        self.held_until = self.renewed_at = None

    # --- waiting -----------------------------------------------------------------------------

    def wait_until_acquired(
        self,
        stopping: Callable[[], bool],
        sleep: Callable[[float], object],
        *,
        what: str,
        poll_seconds: float | None = None,
        clock: Callable[[], float] | None = None,
    ) -> bool:
        """Block until the lease is ours (True) or ``stopping()`` says to give up (False).

        Says once, then every minute, which process holds it, so an operator who started a
        second engine sees why it does nothing.
        """
        poll = poll_seconds if poll_seconds is not None else _poll_seconds(self.ttl)
        monotonic = clock or time.monotonic
        reported_at: float | None = None
        while not stopping():
            try:
                refusal = self.try_acquire()
            except DatabaseError:
                # Busy or briefly unreachable: the database decides who holds it, so ask again.
                logger.warning("%s: cannot read its lease yet; retrying", what, exc_info=True)
                sleep(poll)
                continue
            if refusal is None:
                if reported_at is not None:
                    logger.warning("%s: the lease is ours now; starting", what)
                return True
            if reported_at is None or monotonic() - reported_at >= WAIT_REPORT_SECONDS:
                reported_at = monotonic()
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

    def _take(self, condition: Q, now: datetime) -> bool:
        expires = now + self.ttl
        taken = Lease.objects.filter(condition, name=self.name).update(
            holder=self.me, acquired_at=now, expires_at=expires
        )
        if taken == 1:
            self.held_until, self.renewed_at = expires, now
            return True
        return False


def _poll_seconds(ttl: timedelta) -> float:
    return max(0.2, min(5.0, ttl.total_seconds() / 6))
