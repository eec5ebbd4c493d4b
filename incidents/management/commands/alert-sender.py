"""``sitecare alert-sender``: deliver the notification outbox until SIGTERM/SIGINT."""

from __future__ import annotations

import threading
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from incidents import sender


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
        sender.run(stop, once=options["once"])
