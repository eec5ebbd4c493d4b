"""``sitecare job-runner``: run background jobs (browser checks first) until SIGTERM/SIGINT.

It lives in ``core`` because it wires apps together: the loop is ``jobs.runner``'s; each round
also queues the browser monitors' due checks (``monitoring.browser_schedule``) and keeps the
runner's run record (``monitoring.engine_runs``, loop ``job-runner``), from which the SLA
knows when browser monitors were watched.
"""

from __future__ import annotations

import logging
import threading
from argparse import ArgumentParser
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import DatabaseError
from django.utils.translation import gettext as _

from incidents import sender
from jobs.runner import JobRunner, Periodic
from monitoring import engine_runs
from monitoring.browser_schedule import handle_one_schedule
from monitoring.models import RunLoop

logger = logging.getLogger("sitecare.jobs")

# How often due browser checks are queued: a check starts at most this late.
SCHEDULE_SECONDS = 2.0


class RunRecord:
    """This runner's row in the run log: started at once, moved on every beat, stopped."""

    def __init__(self) -> None:
        self.run_id: int | None = None

    def beat(self, now: datetime) -> None:
        try:
            if self.run_id is None or not engine_runs.record_beat(self.run_id, now=now):
                self.run_id = engine_runs.record_start(now=now, loop=RunLoop.JOB_RUNNER)
        except DatabaseError:
            logger.exception("recording that the job runner runs failed; will retry")

    def stop(self) -> None:
        if self.run_id is not None:
            try:
                engine_runs.record_stop(self.run_id)
            except DatabaseError:
                logger.exception("recording the job runner's stop failed")


class Command(BaseCommand):
    def add_arguments(self, parser: ArgumentParser) -> None:
        # Set here, not as the class's ``help``: argparse needs plain text and translation is
        # active only once the command runs.
        parser.description = _(
            "Run background jobs (browser checks) in worker processes; SIGTERM or Ctrl-C stops it."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        stop = threading.Event()
        sender.stop_on_signals(stop)
        record = RunRecord()
        runner = JobRunner(
            periodic=[
                Periodic(record.beat, settings.SITECARE_ENGINE_BEAT_SECONDS),
                Periodic(handle_one_schedule, SCHEDULE_SECONDS),
            ]
        )
        try:
            runner.run(stop)
        finally:
            record.stop()
        self.stdout.write(_("Job runner stopped."))
