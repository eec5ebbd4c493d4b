"""``sitecare demo-site``: serve the demo shop; ``--break MODE`` / ``--repair`` switch its mode."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from core.demo import shop
from core.demo.state import DemoMode, demo_port, set_demo_mode

BREAK_MODES = [mode.value for mode in DemoMode if mode != DemoMode.OK]


class Command(BaseCommand):
    help = _(
        "Serve the demo shop on 127.0.0.1 (SIGTERM or Ctrl-C stops it), or break or repair "
        "the running one."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        group = parser.add_mutually_exclusive_group()
        group.add_argument(
            "--break",
            dest="break_mode",
            choices=BREAK_MODES,
            help=_(
                "make the running demo fail: checkout (checkout answers 500), all (every page "
                "answers 503), slow (pages answer after the monitors' timeout), payment (paying "
                "fails while every page answers 200) or heavy (a slow, heavy hero image), then "
                "exit"
            ),
        )
        group.add_argument(
            "--repair", action="store_true", help=_("make the demo work again, then exit")
        )
        parser.add_argument(
            "--port",
            type=int,
            default=None,
            help=_("port to serve on (default: SITECARE_DEMO_PORT or 8001)"),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["break_mode"] or options["repair"]:
            self._switch(options["break_mode"] or DemoMode.OK)
            return
        port = options["port"] or demo_port()
        try:
            shop.serve(port, self.stdout.write)
        except OSError as exc:  # typically: the port is taken
            raise CommandError(
                _("Cannot serve the demo shop on port %(port)d: %(error)s")
                % {"port": port, "error": exc}
            ) from exc

    def _switch(self, mode: str) -> None:
        new_mode = set_demo_mode(mode)
        self.stdout.write(
            _("Demo shop mode: %(mode)s. The monitors notice at their next checks.")
            % {"mode": new_mode.label}
        )
