"""Singleton leases: one holder at a time, taken over when expired or when its process is gone."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine

from jobs.leases import Holder, SingletonLease, this_process
from jobs.models import Lease

T0 = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
ELSEWHERE = Holder(host="other-host", boot="b00t", pid=4242, started="777")


def lease_of(holder: Holder, ttl: float = 90.0) -> SingletonLease:
    return SingletonLease("probe-engine", ttl, holder=holder)


def gone_process() -> Holder:
    """A holder that ran on this machine and has ended (its pid is free again)."""
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    here = this_process()
    started = Path(f"/proc/{child.pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    holder = Holder(host=here.host, boot=here.boot, pid=child.pid, started=started)
    child.kill()
    child.wait()
    return holder


def test_it_lets_one_holder_take_a_free_lease_and_refuses_a_second(db):
    first, second = lease_of(this_process()), lease_of(ELSEWHERE)
    with time_machine.travel(T0, tick=False):
        assert first.try_acquire() is None
        refusal = second.try_acquire()
    assert refusal is not None and refusal.holder == this_process()
    assert f"pid {this_process().pid}" in refusal.describe()
    assert Lease.objects.get(name="probe-engine").holder == this_process().key()


def test_it_lets_another_take_over_only_after_the_lease_expired(db):
    away, here = lease_of(ELSEWHERE, ttl=90), lease_of(this_process())
    with time_machine.travel(T0, tick=False):
        assert away.try_acquire() is None
    with time_machine.travel(T0 + timedelta(seconds=89), tick=False):
        assert here.try_acquire() is not None  # another machine's holder is never "gone"
    with time_machine.travel(T0 + timedelta(seconds=90), tick=False):
        assert here.try_acquire() is None
        assert not away.renew()  # the old holder learns it lost the lease, and stops


def test_it_takes_over_at_once_from_a_holder_on_this_machine_whose_process_is_gone(db):
    dead = gone_process()
    assert dead.is_gone()
    with time_machine.travel(T0, tick=False):
        assert lease_of(dead).try_acquire() is None
        assert lease_of(this_process()).try_acquire() is None


def test_it_never_takes_a_running_process_for_gone_even_with_a_reused_pid():
    here = this_process()
    assert not here.is_gone()
    # Our pid, started at another time: a different process that happened to get the pid.
    assert Holder(here.host, here.boot, here.pid, "1").is_gone()
    # A holder from before a reboot of this machine is gone whatever its pid.
    assert Holder(here.host, "another-boot", here.pid, here.started).is_gone()


def test_it_releases_only_its_own_lease_and_renews_while_it_holds_it(db):
    mine, theirs = lease_of(this_process(), ttl=30), lease_of(ELSEWHERE, ttl=30)
    with time_machine.travel(T0, tick=False):
        assert mine.try_acquire() is None
        theirs.release()  # not theirs to give back
        assert theirs.try_acquire() is not None
    with time_machine.travel(T0 + timedelta(seconds=5), tick=False):
        assert mine.renew_if_due()  # not due yet: nothing written
        assert Lease.objects.get().expires_at == T0 + timedelta(seconds=30)
    with time_machine.travel(T0 + timedelta(seconds=11), tick=False):
        assert mine.renew_if_due()
        assert Lease.objects.get().expires_at == T0 + timedelta(seconds=41)
        mine.release()
        assert theirs.try_acquire() is None


def test_it_gives_up_a_lease_it_could_not_renew_before_it_ran_out(db):
    mine = lease_of(this_process(), ttl=30)
    with time_machine.travel(T0, tick=False):
        assert mine.try_acquire() is None
    with time_machine.travel(T0 + timedelta(seconds=31), tick=False):
        assert not mine.renew_if_due()


def test_it_waits_for_the_lease_saying_who_holds_it(db, caplog):
    with time_machine.travel(T0, tick=False):
        assert lease_of(ELSEWHERE, ttl=3600).try_acquire() is None
    waiting = lease_of(this_process())
    polls: list[float] = []

    def sleep(seconds: float) -> None:
        polls.append(seconds)

    with time_machine.travel(T0 + timedelta(seconds=10), tick=False):
        acquired = waiting.wait_until_acquired(
            lambda: len(polls) >= 3, sleep, what="probe engine", poll_seconds=1.0
        )
    assert not acquired and polls == [1.0, 1.0, 1.0]
    messages = [r.getMessage() for r in caplog.records if "already runs" in r.getMessage()]
    assert len(messages) == 1  # said once, not at every poll
    assert "pid 4242 on other-host" in messages[0]


@pytest.mark.parametrize("key", ["", "garbage", "host boot notapid 1"])
def test_it_reads_a_malformed_holder_as_unknown(key):
    assert Holder.parse(key) is None
