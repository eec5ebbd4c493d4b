"""``sitecare import-recording FILE``: a ``playwright codegen --target python`` recording as the
steps of a transaction monitor, printed as YAML for config as code (read, never run)."""

from __future__ import annotations

import sys
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

import yaml
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from monitoring.browser.codegen import RecordingError, steps_from_recording


class Command(BaseCommand):
    help = _(
        "Print the steps of a transaction monitor, as YAML, from a recording made with "
        "'playwright codegen --target python'. The recording is parsed, never run."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("file", help=_("The recording (- reads standard input)."))

    def handle(self, *args: Any, **options: Any) -> None:
        name = options["file"]
        try:
            text = sys.stdin.read() if name == "-" else Path(name).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            message = _("Cannot read %(file)s: %(error)s") % {"file": name, "error": exc}
            raise CommandError(message) from None
        try:
            steps = steps_from_recording(text)
        except RecordingError as exc:
            raise CommandError(f"{name}: {exc}") from None
        document = yaml.safe_dump(
            {"steps": steps},
            sort_keys=False,
            allow_unicode=True,
            default_flow_style=None,
            width=100,
        )
        self.stdout.write(document, ending="")
