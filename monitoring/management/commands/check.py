"""``sitecare check URL``: run one HTTP check now and show what it found, phase by phase.

The name is Django's system-check command too; without a URL (``sitecare check``,
``sitecare check --deploy``) this command is exactly that one, so nothing is lost.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.core.management.commands.check import Command as SystemCheckCommand
from django.utils.translation import gettext as _


class Command(SystemCheckCommand):
    help = _(
        "Check a URL now, as a monitor would (exit 0 up, 1 down, 2 bad input); "
        "without a URL, run Django's system checks."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        group = parser.add_argument_group(_("checking a URL"))
        group.add_argument("--method", default=None, help=_("HTTP method (default GET)."))
        group.add_argument("--keyword", default=None, help=_("Text the page must contain."))
        group.add_argument(
            "--expect-status", default=None, help=_("Expected status codes (default 200-399).")
        )
        group.add_argument(
            "--header",
            action="append",
            default=[],
            metavar="NAME:VALUE",
            help=_("A request header (repeatable)."),
        )
        group.add_argument(
            "--json-assert",
            action="append",
            default=[],
            metavar="EXPR",
            help=_("A JSON assertion such as '$.status == \"ok\"' (repeatable)."),
        )
        group.add_argument(
            "--timeout", type=float, default=10.0, help=_("Seconds for the whole check.")
        )
        group.add_argument("--json", action="store_true", help=_("Print the result as JSON."))
        group.add_argument(
            "--allow-private",
            action="store_true",
            help=_(
                "Admit loopback and private networks (10/8, 172.16/12, 192.168/16, fc00::/7) "
                "for this run. Risky: the check can then reach services inside this machine's "
                "network, which monitors of clients are never allowed to."
            ),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not args or "://" not in args[0]:
            super().handle(*args, **options)
            return
        # Loaded only to check a URL: it brings the check kinds, pydantic and the HTTP client,
        # which the system checks and the help do not need.
        from monitoring import trial, url_check

        if len(args) > 1:
            raise CommandError(_("Give one URL to check."), returncode=url_check.EXIT_BAD_INPUT)
        target = url_check.build_target(args[0], options)
        outcome = asyncio.run(trial.check_once(target))
        if options["json"]:
            self.stdout.write(
                json.dumps(url_check.outcome_json(target, outcome), ensure_ascii=False)
            )
        else:
            self.stdout.write(
                url_check.render(target, outcome, tty=self.stdout.isatty()), ending=""
            )
        if not outcome.ok:
            raise SystemExit(url_check.EXIT_DOWN)
