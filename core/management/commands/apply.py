"""``sitecare apply FILE [--dry-run] [--prune]``: config as code."""

from __future__ import annotations

import sys
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core.configcode import ApplyReport, ConfigError, apply_config, apply_file
from core.configcode.apply import read_document


class Command(BaseCommand):
    help = _(
        "Validate a configuration file as a whole, show the changes, and write them in one "
        "transaction. Nothing is written when the file has any error."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("file", help=_("the YAML file, or - to read standard input"))
        parser.add_argument(
            "--dry-run", action="store_true", help=_("show the changes, write nothing")
        )
        parser.add_argument(
            "--prune",
            action="store_true",
            help=_(
                "delete the agency's care plans, clients, sites, monitors, maintenance windows "
                "and channels the file omits"
            ),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            report = self._apply(options["file"], options["dry_run"], options["prune"])
        except ConfigError as exc:
            for message in exc.messages():
                self.stderr.write(message)
            count = len(exc.issues)
            raise CommandError(
                ngettext(
                    "%(count)d error in %(source)s; nothing was changed.",
                    "%(count)d errors in %(source)s; nothing was changed.",
                    count,
                )
                % {"count": count, "source": exc.source}
            ) from None
        self.stdout.write(report.render())

    def _apply(self, path: str, dry_run: bool, prune: bool) -> ApplyReport:
        if path == "-":
            text = read_document(sys.stdin, "<stdin>")  # bounded like a file
            return apply_config(text, source="<stdin>", dry_run=dry_run, prune=prune)
        return apply_file(path, dry_run=dry_run, prune=prune)
