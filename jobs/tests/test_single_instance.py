"""At most one probe engine and one alert sender per database, whatever starts them.

Real processes (``sitecare probe-engine``, ``sitecare alert-sender``, ``sitecare run``) over
their own migrated SQLite file: pytest-django's in-memory database is invisible to another
process, so the file is read back with plain ``sqlite3``.
"""

from __future__ import annotations

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

from core.tests.test_end_to_end import free_port, is_gone
from sitecare.lib.procinfo import descendants
from sitecare.tests.sqlite_files import copy_of, process_env

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def home(migrated_sqlite: Path, tmp_path: Path) -> Path:
    copy_of(migrated_sqlite, tmp_path)
    return tmp_path


def environment(db: Path, var_dir: Path) -> dict[str, str]:
    return process_env(
        db,
        var_dir,
        # A 1 s beat makes the engine's lease live 3 s, so a wait is seen within the test.
        SITECARE_ENGINE_BEAT_SECONDS="1",
        SITECARE_ENGINE_METRICS_PORT="0",
        SITECARE_ALERT_POLL_SECONDS="0.2",
    )


class Processes:
    """Processes a test starts, each logging to its own file; all killed at the end."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.started: list[subprocess.Popen[bytes]] = []

    def start(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        with (self.home / f"{name}.log").open("ab") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "sitecare.cli", *args],
                cwd=settings.BASE_DIR,
                env=environment(self.home / "db.sqlite3", self.home),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.started.append(process)
        return process

    def log(self, name: str) -> str:
        return (self.home / f"{name}.log").read_text(errors="replace")

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        connection = sqlite3.connect(self.home / "db.sqlite3", timeout=10)
        try:
            return connection.execute(sql).fetchall()
        except sqlite3.OperationalError:
            return []
        finally:
            connection.close()

    def wait_for(self, what: str, condition: Callable[[], Any], timeout: float = 30) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if result := condition():
                return result
            time.sleep(0.1)
        logs = "\n".join(f"--- {p.name} ---\n{p.read_text()}" for p in self.home.glob("*.log"))
        raise AssertionError(f"timed out waiting for {what}\n{logs}")

    def engine_runs(self, pid: int) -> list[tuple[Any, ...]]:
        return self.query(
            f"SELECT started_at, last_seen_at FROM monitoring_enginerun WHERE pid={pid}"
        )

    def lease_holder(self, name: str) -> str:
        rows = self.query(f"SELECT holder FROM jobs_lease WHERE name='{name}'")
        return str(rows[0][0]) if rows else ""


@pytest.fixture
def processes(home: Path) -> Iterator[Processes]:
    procs = Processes(home)
    yield procs
    for process in procs.started:
        for pid in [process.pid, *descendants(process.pid)]:
            if not is_gone(pid):
                os.kill(pid, signal.SIGKILL)
        process.wait(10)


def test_it_keeps_a_second_probe_engine_waiting_until_the_first_is_gone(processes):
    first = processes.start("engine-1", "probe-engine")
    processes.wait_for("the first engine's run", lambda: processes.engine_runs(first.pid))
    second = processes.start("engine-2", "probe-engine")
    processes.wait_for(
        "the second engine to say why it waits",
        lambda: f"pid {first.pid} on" in processes.log("engine-2"),
    )
    time.sleep(4)  # longer than the lease lives: the first renews it, the second still waits
    assert processes.engine_runs(second.pid) == []
    assert "another probe engine already runs on this database" in processes.log("engine-2")

    first.kill()  # no clean stop, no release: the second sees the holder's process is gone
    first.wait()
    processes.wait_for("the second engine's run", lambda: processes.engine_runs(second.pid))
    (_started, first_seen), (second_started, _seen) = (
        processes.engine_runs(first.pid)[0],
        processes.engine_runs(second.pid)[0],
    )
    assert second_started >= first_seen  # they never ran at the same time

    second.send_signal(signal.SIGTERM)
    assert second.wait(20) == 0
    assert processes.lease_holder("probe-engine") == ""  # given back on a clean stop


def test_it_keeps_a_second_alert_sender_waiting_and_a_one_off_run_out(processes):
    first = processes.start("sender-1", "alert-sender")
    processes.wait_for(
        "the first sender's lease",
        lambda: f" {first.pid} " in processes.lease_holder("alert-sender"),
    )
    once = processes.start("sender-once", "alert-sender", "--once")
    assert once.wait(30) == 0
    assert "another alert sender runs on this database" in processes.log("sender-once")

    second = processes.start("sender-2", "alert-sender")
    processes.wait_for(
        "the second sender to say why it waits",
        lambda: "another alert sender already runs" in processes.log("sender-2"),
    )
    first.send_signal(signal.SIGTERM)
    assert first.wait(20) == 0
    processes.wait_for(
        "the second sender to take over",
        lambda: f" {second.pid} " in processes.lease_holder("alert-sender"),
    )
    assert "the lease is ours now" in processes.log("sender-2")


def test_it_leaves_nothing_running_when_sitecare_run_is_killed(processes):
    port = free_port()
    run = processes.start("run-1", "run", "--port", str(port))
    engine = processes.wait_for(
        "the engine of the first run",
        lambda: processes.query("SELECT pid FROM monitoring_enginerun WHERE loop='probe-engine'"),
        timeout=60,
    )[0][0]
    runner = processes.wait_for(
        "the job runner of the first run",
        lambda: processes.query("SELECT pid FROM monitoring_enginerun WHERE loop='job-runner'"),
        timeout=60,
    )[0][0]
    tree = descendants(run.pid)
    assert engine in tree and runner in tree

    run.kill()  # SIGKILL: the supervisor runs no handler at all
    run.wait()
    processes.wait_for("every child of the killed run to end", lambda: all(map(is_gone, tree)))

    again = processes.start("run-2", "run", "--port", str(port))
    processes.wait_for(
        "the engine of the second run",
        lambda: (
            len(processes.query("SELECT pid FROM monitoring_enginerun WHERE loop='probe-engine'"))
            == 2
        ),
        timeout=60,
    )
    assert "already runs on this database" not in processes.log("run-2")
    again.send_signal(signal.SIGTERM)
    assert again.wait(30) == 0


def test_it_stops_an_engine_whose_lease_another_took_with_a_failing_exit(processes):
    engine = processes.start("engine", "probe-engine")
    processes.wait_for("the engine's run", lambda: processes.engine_runs(engine.pid))
    connection = sqlite3.connect(processes.home / "db.sqlite3", timeout=10)
    with connection:
        connection.execute(
            "UPDATE jobs_lease SET holder = 'elsewhere b00t 1 4242 777', "
            "expires_at = datetime('now', '+1 hour') WHERE name = 'probe-engine'"
        )
    connection.close()
    assert engine.wait(30) == 1  # at its next beat (1 s), not later
    log = processes.log("engine")
    assert "another engine took over its lease" in log
    assert "lost its lease to another engine" in log
