"""``sitecare prune-results``: delete raw check results past the retention period now."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _

from monitoring.retention import count_old_results, prune_raw_results, retention_days


class Command(BaseCommand):
    help = _(
        "Delete raw check results older than the retention period. Hourly rollups and the "
        "state-change log are kept. The probe engine does this by itself every minute."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--days",
            type=int,
            default=None,
            help=_("Keep this many days of results (default: SITECARE_RESULT_RETENTION_DAYS)."),
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help=_("Only count the results that would be deleted."),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        now = timezone.now()
        days = retention_days() if options["days"] is None else options["days"]
        if days < 1:
            raise CommandError(_("--days must be at least 1."))
        if options["dry_run"]:
            count = count_old_results(now, days)
            message = _("%(count)d check results older than %(days)d days would be deleted.")
        else:
            count = prune_raw_results(now, days)
            message = _("%(count)d check results older than %(days)d days deleted.")
        self.stdout.write(message % {"count": count, "days": days})
