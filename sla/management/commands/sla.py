"""``sitecare sla --client X [--period 2026-10] [--json]``: a client's SLA for a period.

The table and ``--json`` show the same figures: both are made from ``sla.serialize``'s dict
(the API's answer). Times are shown in the plan's time zone, named in the heading; the table
is in the agency's language (``--language`` to choose), with the page's words and precision
(budget used to 0.1 %, burn rate to 0.01, both rounded down).
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from sla.periods import PeriodError
from sla.serialize import (
    MAX_HISTORY_MONTHS,
    client_sla_data,
)
from tenancy.models import Client, Organization

EXIT_BAD_INPUT = 2


class Command(BaseCommand):
    help = _(
        "Show a client's SLA for a month or a quarter: availability, error budget, breaches "
        "and the credit owed, as a table or as JSON."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--client", required=True, help=_("the client's slug or id"))
        parser.add_argument(
            "--agency", help=_("the agency's slug, when several agencies have the client's slug")
        )
        parser.add_argument(
            "--period", help=_("a month (2026-10) or a quarter (2026-Q4); default: this month")
        )
        parser.add_argument(
            "--history",
            type=int,
            default=0,
            help=_("also show the availability of this many months (at most %(max)d)")
            % {"max": MAX_HISTORY_MONTHS},
        )
        parser.add_argument("--json", action="store_true", help=_("print the figures as JSON"))
        parser.add_argument(
            "--language",
            choices=[code for code, _name in settings.LANGUAGES],
            help=_("the language of the table; default: the agency's"),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        now = timezone.now()
        if not 0 <= options["history"] <= MAX_HISTORY_MONTHS:
            raise CommandError(
                _("--history must be from 0 to %(max)d months.") % {"max": MAX_HISTORY_MONTHS},
                returncode=EXIT_BAD_INPUT,
            )
        client = find_client(options["client"], options["agency"])
        try:
            data = client_sla_data(client, options["period"], now=now, history=options["history"])
        except PeriodError as exc:
            raise CommandError(str(exc), returncode=EXIT_BAD_INPUT) from None
        if options["json"]:
            self.stdout.write(json.dumps(data, ensure_ascii=False, indent=2))
            return
        # Loaded only to draw the table: rich costs more to import than the help or
        # ``--json`` take to run.
        from sla import cli_table

        with translation.override(options["language"] or client.organization.language):
            self.stdout.write(cli_table.render(data, tty=self.stdout.isatty()), ending="")


def find_client(wanted: str, agency: str | None) -> Client:
    """The client with this slug (or, failing that, this id), in the agency when given.

    A slug several agencies use needs ``--agency``; every refusal is a ``CommandError``.
    """
    clients = Client.objects.select_related("organization")
    if agency is not None:
        if not Organization.objects.filter(slug=agency).exists():
            raise CommandError(
                _("No agency with slug %(slug)s.") % {"slug": agency}, returncode=EXIT_BAD_INPUT
            )
        clients = clients.filter(organization__slug=agency)
    found = list(clients.filter(slug=wanted).order_by("organization__slug"))
    if not found and wanted.isdigit():
        found = list(clients.filter(pk=int(wanted)))
    if not found:
        raise CommandError(
            _("No client with slug or id %(client)s.") % {"client": wanted},
            returncode=EXIT_BAD_INPUT,
        )
    if len(found) > 1:
        agencies = ", ".join(c.organization.slug for c in found)
        raise CommandError(
            _("Several agencies have a client %(client)s (%(agencies)s): add --agency.")
            % {"client": wanted, "agencies": agencies},
            returncode=EXIT_BAD_INPUT,
        )
    return found[0]
