"""Job functions for the job layer's tests (loaded by tests, and by real runners and workers
through ``SITECARE_JOB_MODULES=jobs.tests.sample_jobs``).

With ``SITECARE_TEST_GATE`` set (a directory), transaction checks run by this process's
browser-check jobs are replaced by a gated one: it notes that it started (a file named after
its pid) and waits until the file ``open`` appears there, then fails with an assertion. That
lets a test hold a check mid-run, kill the runner and count what was recorded.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from django.utils import timezone

from jobs.registry import Finish, Payload, job
from monitoring.checks import KINDS
from monitoring.engine.target import CheckTarget
from monitoring.failures import FailureClass
from monitoring.logic import Outcome
from monitoring.models import CheckKind, EngineRun

# What effects ran in this process (tests running jobs inline read it).
EFFECTS: list[Any] = []


@job("tests.echo", max_attempts=3, backoff_base=10.0, backoff_cap=100.0)
def echo(payload: Payload) -> Finish:
    """Succeeds with its payload; its effect is noted (in memory and as a row to count)."""

    def effect() -> None:
        EFFECTS.append(payload)
        # A row whose count the tests read back: one per effect recorded.
        EngineRun.objects.create(
            started_at=timezone.now(), last_seen_at=timezone.now(), host="effect", pid=1
        )

    return Finish(result={"echo": payload}, effect=effect)


@job("tests.boom", max_attempts=2, backoff_base=30.0)
def boom(payload: Payload) -> None:
    raise RuntimeError("it went boom")


@job("tests.hang", timeout=1.0, max_attempts=1)
def hang(payload: Payload) -> None:
    """Start a grandchild that ignores SIGTERM, write its pid, hang for good."""
    hang_with_grandchild(payload["pid_file"])


def hang_with_grandchild(pid_file: str) -> None:
    code = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)"
    child = subprocess.Popen([sys.executable, "-c", code])
    Path(pid_file).write_text(f"{os.getpid()} {child.pid}")
    while True:
        time.sleep(1)


def add(a: int, b: int) -> int:
    """A call for the worker pool's tests."""
    return a + b


def gated_run(target: CheckTarget, *, keep_artifacts: bool = True) -> Outcome:
    gate = Path(os.environ["SITECARE_TEST_GATE"])
    (gate / f"started-{os.getpid()}").touch()
    while not (gate / "open").exists():
        time.sleep(0.05)
    return Outcome(
        target.monitor_id,
        timezone.now(),
        ok=False,
        failure_class=FailureClass.ASSERTION_FAILED,
        message="gated check",
    )


if os.environ.get("SITECARE_TEST_GATE"):
    KINDS[CheckKind.TRANSACTION] = dataclasses.replace(
        KINDS[CheckKind.TRANSACTION], run_in_browser=gated_run
    )
