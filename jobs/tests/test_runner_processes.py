"""The job runner as an operator runs it: ``sitecare job-runner`` over a real SQLite file.

Acceptance: a runner SIGKILLed mid-check loses its job to the next runner, which runs it again
once; the check's result is recorded once. And a job that hangs past its time limit has its
worker's process group killed (a grandchild ignoring SIGTERM included), the runner goes on.
The file is read back with plain ``sqlite3`` (pytest's own database is in memory).
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from sitecare.lib.procinfo import descendants, is_running
from sitecare.tests.processes import run_sitecare
from sitecare.tests.sqlite_files import copy_of, process_env

pytestmark = pytest.mark.timeout(120)

SEED = """
from monitoring.models import Monitor
from sites.models import Site
from tenancy.models import Client, Organization
org = Organization.objects.create(name="Agency", slug="agency")
client = Client.objects.create(organization=org, name="Client", slug="client")
site = Site.objects.create(client=client, name="Shop", slug="shop", url="https://shop.example")
monitor = Monitor.objects.create(site=site, name="Checkout", kind="transaction",
    url="https://shop.example/", interval_s=3600, confirm_down=1)
print(monitor.pk)
"""


class Home:
    """A migrated SQLite file, the environment of processes over it, and the processes."""

    def __init__(self, path: Path, lease_seconds: str = "3") -> None:
        self.path = path
        self.gate = path / "gate"
        self.gate.mkdir()
        self.env = process_env(
            path / "db.sqlite3",
            path,
            SITECARE_JOB_MODULES="jobs.tests.sample_jobs",
            SITECARE_TEST_GATE=str(self.gate),
            SITECARE_JOB_LEASE_SECONDS=lease_seconds,
            SITECARE_JOB_POLL_SECONDS="0.1",
            SITECARE_JOB_KILL_GRACE_SECONDS="0.5",
            SITECARE_ENGINE_BEAT_SECONDS="1",
            SITECARE_BROWSER_WORKERS="1",
        )
        self.started: list[subprocess.Popen[bytes]] = []

    def start_runner(self, name: str) -> subprocess.Popen[bytes]:
        with (self.path / f"{name}.log").open("ab") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "sitecare.cli", "job-runner"],
                cwd=settings.BASE_DIR,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.started.append(process)
        return process

    def shell(self, code: str) -> str:
        done = run_sitecare("shell", "--no-imports", "-c", code, env=self.env)
        return done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        connection = sqlite3.connect(self.path / "db.sqlite3", timeout=10)
        try:
            return connection.execute(sql).fetchall()
        finally:
            connection.close()

    def wait_for(self, what: str, condition: Callable[[], Any], timeout: float = 60) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if result := condition():
                return result
            time.sleep(0.1)
        logs = "\n".join(f"--- {p.name} ---\n{p.read_text()}" for p in self.path.glob("*.log"))
        raise AssertionError(f"timed out waiting for {what}\n{logs}")


@pytest.fixture
def home(migrated_sqlite: Path, tmp_path: Path) -> Iterator[Home]:
    copy_of(migrated_sqlite, tmp_path)
    place = Home(tmp_path)
    yield place
    for process in place.started:
        for pid in [process.pid, *descendants(process.pid)]:
            if is_running(pid):
                os.kill(pid, signal.SIGKILL)
        process.wait(10)


def test_it_runs_a_check_again_once_after_its_runner_was_killed_and_records_it_once(home):
    """The lease lives a minute, but the next runner sees the killed one's process is gone
    (same machine and PID namespace) and retries at once; a lease that expires first (a
    runner on another machine) is ``test_queue``'s."""
    home.env["SITECARE_JOB_LEASE_SECONDS"] = "60"
    monitor = int(home.shell(SEED))
    first = home.start_runner("runner-1")
    started = home.wait_for("the check to start", lambda: list(home.gate.glob("started-*")))
    worker = int(started[0].name.removeprefix("started-"))
    (state, attempts, holder), *_ = home.query("SELECT state, attempts, holder FROM jobs_job")
    assert (state, attempts) == ("running", 1) and f" {first.pid} " in holder

    first.kill()  # SIGKILL: no handler runs, nothing is released
    first.wait()
    # The worker (and all it started) dies with its runner.
    home.wait_for("the killed runner's worker to end", lambda: not is_running(worker))
    (home.gate / "open").touch()  # the next attempt finishes

    second = home.start_runner("runner-2")
    began = time.monotonic()
    done = home.wait_for(
        "the job to be done",
        lambda: home.query("SELECT attempts, last_error FROM jobs_job WHERE state = 'done'"),
    )
    (attempts, last_error), *_ = done
    assert attempts == 2 and f"lost: its runner (pid {first.pid}) is gone" in last_error
    assert time.monotonic() - began < 60  # not waited out
    assert len(list(home.gate.glob("started-*"))) == 2
    results = f"SELECT count(*) FROM monitoring_checkresult WHERE monitor_id={monitor}"
    assert home.query(results) == [(1,)]
    assert home.query("SELECT state FROM monitoring_monitor") == [("down",)]
    assert home.query("SELECT count(*) FROM jobs_job") == [(1,)]  # no second job queued

    second.send_signal(signal.SIGTERM)
    assert second.wait(30) == 0
    runs = home.query(
        "SELECT pid, stopped_at IS NOT NULL FROM monitoring_enginerun WHERE loop='job-runner' "
        "ORDER BY id"
    )
    assert [pid for pid, _stopped in runs] == [first.pid, second.pid]
    assert runs[-1][1] == 1  # the clean stop is recorded; the killed run just ends


def test_it_kills_a_hung_job_with_its_grandchild_and_goes_on(home):
    pid_file = home.path / "pids"
    home.shell(
        "from jobs.queue import enqueue; "
        f"enqueue('tests.hang', {{'pid_file': {json.dumps(str(pid_file))}}})"
    )
    runner = home.start_runner("runner")
    home.wait_for("the hung job to start", lambda: pid_file.exists() and pid_file.read_text())
    worker, grandchild = map(int, pid_file.read_text().split())
    failed_jobs = "SELECT last_error FROM jobs_job WHERE state='failed'"
    failed = home.wait_for("the job to fail", lambda: home.query(failed_jobs))
    assert failed[0][0].startswith("timed out after 1 s")
    home.wait_for("the grandchild to end", lambda: not is_running(grandchild))
    assert not is_running(worker) and is_running(runner.pid)

    home.shell("from jobs.queue import enqueue; enqueue('tests.echo', {'n': 1})")
    home.wait_for(
        "the next job to run on a fresh worker",
        lambda: home.query("SELECT 1 FROM jobs_job WHERE function='tests.echo' AND state='done'"),
    )
    runner.send_signal(signal.SIGTERM)
    assert runner.wait(30) == 0


CLAIMER = """
import json, os, sys, time
import django
django.setup()
from jobs import queue
from jobs.leases import this_process
start = float(sys.argv[1])
while time.time() < start:
    time.sleep(0.001)
won = []
while (claimed := queue.claim_next("default", this_process().key(), ttl=60)) is not None:
    won.append(claimed.job_id)
print(json.dumps(won))
"""


def test_it_never_lets_two_processes_claim_the_same_job(home):
    home.shell(
        "from jobs.queue import enqueue\nfor n in range(40):\n    enqueue('tests.echo', {'n': n})"
    )
    start = time.time() + 3  # both claim from the same moment on
    claimers = [
        subprocess.Popen(
            [sys.executable, "-c", CLAIMER, str(start)],
            cwd=settings.BASE_DIR,
            env=home.env,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    won = [json.loads(c.communicate(timeout=60)[0].strip().splitlines()[-1]) for c in claimers]
    assert all(c.returncode == 0 for c in claimers)
    assert not set(won[0]) & set(won[1])
    assert sorted(won[0] + won[1]) == list(range(1, 41))
    assert home.query("SELECT count(*) FROM jobs_job WHERE attempts = 1") == [(40,)]
