"""``sitecare alert-sender``: deliver the notification outbox until SIGTERM/SIGINT.

It lives in ``core`` because it wires apps together: the loop is ``incidents.sender``'s, and
each round also runs the error-budget check of ``sla`` and refreshes the clients' stored SLA
standings (``sla.standings``); ``sla`` depends on incidents, not the other way round.
"""

from __future__ import annotations

import threading
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from incidents import sender
from sla.alerts import handle_one_budget_check
from sla.standings import handle_one_refresh


class Command(BaseCommand):
    def add_arguments(self, parser: ArgumentParser) -> None:
        # Set here, not as the class's ``help``: argparse needs plain text and translation is
        # active only once the command runs.
        parser.description = _(
            "Deliver the notification outbox through Apprise; SIGTERM or Ctrl-C stops it."
        )
        parser.add_argument(
            "--once", action="store_true", help=_("Deliver what is due now, then exit.")
        )

    def handle(self, *args: Any, **options: Any) -> None:
        stop = threading.Event()
        sender.stop_on_signals(stop)
        try:
            sender.run(
                stop, once=options["once"], periodic=[handle_one_budget_check, handle_one_refresh]
            )
        except sender.LeaseLost as exc:
            # Exit non-zero, so a supervisor that restarts only failed units restarts it (it
            # then waits for the lease).
            raise CommandError(_("The alert sender stopped: %(why)s.") % {"why": exc}) from exc
