"""The runner's steps over pytest's database (calls run inline), its worker pool with real
processes (hard timeout: the whole process group dies), and the SITECARE_JOBS setting."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from jobs import queue
from jobs.models import Job, JobState
from jobs.pool import WorkerPool
from jobs.runner import JobRunner, Periodic, Running, put_back
from jobs.tests import sample_jobs  # noqa: F401 (registers the tests' job functions)
from sitecare.lib.procinfo import is_running
from sitecare.tests.processes import REPO, fresh_env


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_it_runs_due_jobs_up_to_each_queues_size_and_records_them(db, settings):
    settings.SITECARE_JOB_WORKERS = 2
    for n in range(3):
        queue.enqueue("tests.echo", {"n": n})
    runner = JobRunner(inline=True)
    assert runner.handle_one_claims() == 2  # two workers on the default queue
    assert runner.handle_one_replies() == 2
    assert runner.handle_one_claims() == 1
    runner.handle_one_replies()
    assert list(Job.objects.values_list("state", flat=True)) == [JobState.DONE] * 3
    assert runner.running == {}


def test_it_calls_periodic_steps_at_their_own_pace(db):
    calls: list[object] = []
    clock = Clock()
    runner = JobRunner(inline=True, periodic=[Periodic(calls.append, 5.0)], clock=clock)
    runner.handle_one_periodic()
    runner.handle_one_periodic()
    clock.now += 5
    runner.handle_one_periodic()
    assert len(calls) == 2


def test_it_kills_an_overrunning_job_and_gives_it_back(db, settings):
    """The runner's side of a hard timeout: past timeout + grace, the worker is killed and
    the job retried or failed per its policy (tests.hang has one attempt)."""
    settings.SITECARE_JOB_KILL_GRACE_SECONDS = 2.0
    clock = Clock()
    runner = JobRunner(inline=True, clock=clock)
    job = queue.enqueue("tests.hang", {"pid_file": "unused"})
    assert job is not None
    claimed = queue.claim(job.pk, runner.me, ttl=runner.ttl)
    assert claimed is not None
    killed: list[object] = []
    runner.pools["default"].kill = killed.append  # type: ignore[method-assign,assignment]
    # As handle_one_claims would note it: kill at the timeout (1 s) plus the grace (2 s).
    runner.running[job.pk] = Running(claimed, "default", "handle", clock.now + 3.0, clock.now + 20)
    clock.now += 2.9
    assert runner.handle_one_overruns() == 0
    clock.now += 0.1
    assert runner.handle_one_overruns() == 1
    assert killed == ["handle"]
    job.refresh_from_db()
    assert job.state == JobState.FAILED and job.last_error.startswith("timed out after 1 s")


def test_it_stops_a_job_another_runner_took_over(db):
    clock = Clock()
    runner = JobRunner(inline=True, clock=clock)
    job = queue.enqueue("tests.echo")
    assert job is not None
    claimed = queue.claim(job.pk, runner.me, ttl=runner.ttl)
    assert claimed is not None
    runner.running[job.pk] = Running(claimed, "default", "h", clock.now + 100, clock.now + 20)
    killed: list[object] = []
    runner.pools["default"].kill = killed.append  # type: ignore[method-assign,assignment]
    clock.now += 20
    assert runner.handle_one_renewals() == 1  # still ours: renewed
    Job.objects.filter(pk=job.pk).update(lease_token="someone-else")
    clock.now += 20
    assert runner.handle_one_renewals() == 0
    assert killed == ["h"] and runner.running == {}


def test_it_puts_a_job_back_untried_when_the_runner_stops(db):
    job = queue.enqueue("tests.echo")
    assert job is not None
    claimed = queue.claim(job.pk, "me", ttl=60)
    assert claimed is not None
    assert put_back(claimed)
    job.refresh_from_db()
    assert (job.state, job.attempts, job.holder) == (JobState.QUEUED, 0, "")


def test_it_kills_a_hung_job_with_the_grandchild_that_ignores_sigterm(tmp_path: Path):
    pool = WorkerPool("default", 1)
    try:
        first = pool.start("jobs.tests.sample_jobs.add", [2, 3])
        replies = _wait_for_replies(pool)
        assert replies == [(first, replies[0][1])] and replies[0][1].value == 5
        pid_file = tmp_path / "pids"
        hung = pool.start("jobs.tests.sample_jobs.hang_with_grandchild", [str(pid_file)])
        assert hung is first  # a long-lived worker takes the next call
        _wait(lambda: pid_file.exists() and pid_file.read_text())
        worker_pid, grandchild = map(int, pid_file.read_text().split())
        assert pool.poll(0.5) == []  # hung: no reply
        pool.kill(hung)
        _wait(lambda: not is_running(grandchild))
        assert not is_running(worker_pid)
        # A fresh worker replaces it for the next call.
        again = pool.start("jobs.tests.sample_jobs.add", [1, 1])
        assert again is not hung and _wait_for_replies(pool)[0][1].value == 2
    finally:
        pool.close()


def test_it_reports_a_worker_that_died_mid_call(tmp_path: Path):
    pool = WorkerPool("default", 1)
    try:
        worker = pool.start("os._exit", [3])
        (_, reply), *_ = _wait_for_replies(pool)
        assert not reply.ok and "ended" in reply.error
        assert worker not in pool.workers
    finally:
        pool.close()


def _wait_for_replies(pool: WorkerPool, timeout: float = 30.0) -> list:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if replies := pool.poll(0.2):
            return replies
    raise AssertionError("no reply from the worker")


def _wait(condition: Callable[[], object], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError("timed out")


@pytest.mark.parametrize(("value", "says"), [("celery", "comes with scale-out"), ("rq", "")])
def test_it_refuses_any_executor_but_embedded_loudly(tmp_path: Path, value: str, says: str):
    done = subprocess.run(
        [sys.executable, "-m", "sitecare.cli", "check"],
        cwd=REPO,
        env=fresh_env(tmp_path, SITECARE_JOBS=value),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0
    assert "ImproperlyConfigured" in done.stderr
    assert f"SITECARE_JOBS='{value}' is not supported" in done.stderr and says in done.stderr
