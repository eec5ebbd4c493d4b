"""``sitecare export --agency SLUG [-o FILE] [--include-secrets]``: the agency as YAML."""

from __future__ import annotations

import os
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from core.configcode import export_config
from tenancy.models import Organization


class Command(BaseCommand):
    help = _(
        "Write an agency's clients, sites, monitors and channels in the format sitecare apply "
        "reads. Channel URLs become ${SITECARE_CHANNEL_...} placeholders unless "
        "--include-secrets is given."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--agency", required=True, help=_("the agency's slug"))
        parser.add_argument("-o", "--output", help=_("write to this file instead of stdout"))
        parser.add_argument(
            "--include-secrets",
            action="store_true",
            help=_("write channel URLs with their tokens (keep such a file private)"),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        org = Organization.objects.filter(slug=options["agency"]).first()
        if org is None:
            raise CommandError(_("No agency with slug %(slug)s.") % {"slug": options["agency"]})
        text = export_config(org, include_secrets=options["include_secrets"])
        if not options["output"]:
            self.stdout.write(text, ending="")
            return
        self._write(options["output"], text, secret=options["include_secrets"])
        self.stderr.write(_("Written to %(path)s.") % {"path": options["output"]})

    def _write(self, path: str, text: str, *, secret: bool) -> None:
        # A file with secrets is created readable by its owner only.
        mode = 0o600 if secret else 0o644
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        if secret:
            os.chmod(path, 0o600)
