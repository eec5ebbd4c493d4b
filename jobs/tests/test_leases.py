"""Singleton leases: one holder at a time, taken over when expired or when its process is gone.

The database's clock decides expiry; tests pin it by passing ``now``.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from incidents import sender
from jobs import leases
from jobs.leases import Holder, SingletonLease, this_process
from jobs.models import Lease
from sitecare.lib.procinfo import process_start_time

T0 = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
ELSEWHERE = Holder(host="other-host", boot="b00t", pidns="4026531836", pid=4242, started="777")


class Monotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def lease_of(holder: Holder, ttl: float = 90.0, clock: Monotonic | None = None) -> SingletonLease:
    return SingletonLease("probe-engine", ttl, holder=holder, monotonic=clock or Monotonic())


def gone_process() -> Holder:
    """A holder that ran on this machine, in this PID namespace, and has ended."""
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    here = this_process()
    started = process_start_time(child.pid) or ""
    child.kill()
    child.wait()
    return Holder(here.host, here.boot, here.pidns, child.pid, started)


def test_it_lets_one_holder_take_a_free_lease_and_refuses_a_second(db):
    first, second = lease_of(this_process()), lease_of(ELSEWHERE)
    assert first.try_acquire(now=T0) is None
    refusal = second.try_acquire(now=T0)
    assert refusal is not None and refusal.holder == this_process()
    assert f"pid {this_process().pid}" in refusal.describe()
    assert Lease.objects.get(name="probe-engine").holder == this_process().key()


def test_it_lets_another_take_over_only_after_the_lease_expired(db):
    away, here = lease_of(ELSEWHERE, ttl=90), lease_of(this_process())
    assert away.try_acquire(now=T0) is None
    assert here.try_acquire(now=T0 + timedelta(seconds=89)) is not None
    assert here.try_acquire(now=T0 + timedelta(seconds=90)) is None
    assert not away.renew(now=T0 + timedelta(seconds=91))  # the old holder learns it lost


def test_it_judges_expiry_on_the_databases_clock_not_a_machines_own(db):
    """A machine whose clock runs two hours ahead must not take a live lease."""
    assert lease_of(ELSEWHERE, ttl=90).try_acquire() is None
    with time_machine.travel(datetime.now(UTC) + timedelta(hours=2), tick=False):
        assert lease_of(this_process()).try_acquire() is not None


def test_it_takes_over_at_once_from_a_holder_on_this_machine_whose_process_is_gone(db):
    dead = gone_process()
    assert dead.is_gone()
    assert lease_of(dead).try_acquire(now=T0) is None
    assert lease_of(this_process()).try_acquire(now=T0) is None


def test_it_never_takes_a_running_process_for_gone_even_with_a_reused_pid():
    here = this_process()
    assert not here.is_gone()
    # Our pid, started at another time: a different process that happened to get the pid.
    assert Holder(here.host, here.boot, here.pidns, here.pid, "1").is_gone()
    # A holder from before a reboot of this machine is gone whatever its pid.
    assert Holder(here.host, "another-boot", here.pidns, here.pid, here.started).is_gone()


def test_it_never_takes_a_holder_in_another_pid_namespace_for_gone():
    """A container on this machine shares its host name and boot id, not its pids."""
    here = this_process()
    in_a_container = Holder(here.host, here.boot, "4026532999", 1, "12345")
    assert not in_a_container.is_gone()


def test_it_never_takes_a_holder_for_gone_when_proc_cannot_tell(monkeypatch):
    here = this_process()
    monkeypatch.setattr(leases, "process_start_time", lambda pid: None)  # hidepid, say
    assert not Holder(here.host, here.boot, here.pidns, 99999, "1").is_gone()


def test_it_releases_only_its_own_lease_and_renews_a_third_into_its_life(db):
    clock = Monotonic()
    mine, theirs = lease_of(this_process(), ttl=30, clock=clock), lease_of(ELSEWHERE, ttl=30)
    assert mine.try_acquire(now=T0) is None
    theirs.release()  # not theirs to give back
    assert theirs.try_acquire(now=T0) is not None
    clock.now += 5
    assert mine.renew_if_due(now=T0 + timedelta(seconds=5))  # not due yet: nothing written
    assert Lease.objects.get().expires_at == T0 + timedelta(seconds=30)
    clock.now += 6
    assert mine.renew_if_due(now=T0 + timedelta(seconds=11))
    assert Lease.objects.get().expires_at == T0 + timedelta(seconds=41)
    mine.release()
    assert theirs.try_acquire(now=T0 + timedelta(seconds=12)) is None


def test_it_keeps_a_lease_it_renewed_late_when_nobody_took_it(db):
    """A long round (a big mailing) or a suspended machine: past its expiry the lease is
    still ours if nobody took it, and nobody worked meanwhile."""
    clock = Monotonic()
    mine = lease_of(this_process(), ttl=30, clock=clock)
    assert mine.try_acquire(now=T0) is None
    clock.now += 300
    assert mine.renew_if_due(now=T0 + timedelta(seconds=300))
    assert lease_of(ELSEWHERE).try_acquire(now=T0 + timedelta(seconds=301)) is not None


def test_it_learns_it_lost_a_lease_another_process_took(db):
    clock = Monotonic()
    mine = lease_of(this_process(), ttl=30, clock=clock)
    assert mine.try_acquire(now=T0) is None
    assert lease_of(ELSEWHERE, ttl=30).try_acquire(now=T0 + timedelta(seconds=31)) is None
    clock.now += 31
    assert mine.ran_out()
    assert not mine.renew_if_due(now=T0 + timedelta(seconds=32))
    assert not mine.held


def test_it_waits_for_the_lease_saying_who_holds_it(db, caplog):
    assert lease_of(ELSEWHERE, ttl=3600).try_acquire() is None
    waiting = lease_of(this_process())
    polls: list[float] = []

    acquired = waiting.wait_until_acquired(
        lambda: len(polls) >= 3, polls.append, what="probe engine", poll_seconds=1.0
    )
    assert not acquired and polls == [1.0, 1.0, 1.0]
    messages = [r.getMessage() for r in caplog.records if "already runs" in r.getMessage()]
    assert len(messages) == 1  # said once, not at every poll
    assert "pid 4242 on other-host" in messages[0]


@pytest.mark.parametrize("key", ["", "garbage", "host boot ns notapid 1"])
def test_it_reads_a_malformed_holder_as_unknown(key):
    assert Holder.parse(key) is None


def test_it_stops_a_sender_whose_lease_another_took_and_says_so_with_its_exit(db, monkeypatch):
    """The alert sender that lost its lease raises LeaseLost: its command exits 1."""
    calls: list[datetime] = []
    sender_lease = SingletonLease(sender.LEASE_NAME, sender.lease_ttl_seconds())

    def taken(stop: threading.Event, *, once: bool) -> SingletonLease | None:
        return sender_lease if sender_lease.try_acquire() is None else None

    def another_takes_it(now: datetime) -> None:
        calls.append(now)
        Lease.objects.filter(name=sender.LEASE_NAME).update(holder=ELSEWHERE.key())
        sender_lease.renewed_mono = -1e9  # a third of its life has passed: it renews now

    monkeypatch.setattr(sender, "take_lease", taken)
    with pytest.raises(sender.LeaseLost):
        sender.run(threading.Event(), periodic=[another_takes_it])
    assert len(calls) == 1
    assert Lease.objects.get(name=sender.LEASE_NAME).holder == ELSEWHERE.key()  # not released
