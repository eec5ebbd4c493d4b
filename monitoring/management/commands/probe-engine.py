"""``sitecare probe-engine``: check every enabled monitor until SIGTERM/SIGINT."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from monitoring.engine.runner import run_engine


class Command(BaseCommand):
    help = _("Run the probe engine: check every enabled monitor; SIGTERM or Ctrl-C stops it.")

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--duration",
            type=float,
            default=None,
            help=_("Stop after this many seconds (default: run until stopped)."),
        )
        parser.add_argument(
            "--no-uvloop",
            action="store_true",
            help=_("Use asyncio's own event loop even when uvloop is installed."),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        engine = run_engine(duration=options["duration"], use_uvloop=not options["no_uvloop"])
        self.stdout.write(
            _("Probe engine stopped: %(checks)d checks, %(stored)d results stored.")
            % {"checks": engine.checks_started, "stored": engine.results_stored}
        )
        if engine.lease.lost:
            # Another engine holds the lease now: exit non-zero, so a supervisor that
            # restarts only failed units restarts this one (it then waits for the lease).
            raise CommandError(_("The probe engine lost its lease to another engine."))
