"""One HTTP check of a URL, run now for ``sitecare check URL``, and its result in words.

The check runs through the engine's own HTTP check and the network policy, as a monitor's
would; the command module imports this one only when a URL is given, so ``sitecare check``
and its help do not load the check kinds, pydantic and the HTTP client.
"""

from __future__ import annotations

import io
import ipaddress
from collections.abc import Callable
from typing import Any

from django.core.management.base import CommandError
from django.utils.translation import gettext as _
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table
from rich.text import Text

from monitoring.checks import http
from monitoring.engine.target import CheckTarget
from monitoring.logic import Outcome
from monitoring.models import CheckKind
from monitoring.trial import failure_label, shown_message
from sitecare.lib.netpolicy import IPNetwork

# What --allow-private admits: loopback and private ranges. Not link-local (cloud metadata
# lives there) nor CGNAT: debugging a site never needs those.
PRIVATE_NETWORKS: tuple[IPNetwork, ...] = tuple(
    ipaddress.ip_network(net)
    for net in (
        "127.0.0.0/8",
        "::1/128",
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "fc00::/7",
    )
)
EXIT_DOWN = 1
EXIT_BAD_INPUT = 2
PHASES: tuple[tuple[str, Callable[[], str]], ...] = (
    ("dns_ms", lambda: _("DNS lookup")),
    ("connect_ms", lambda: _("TCP connect")),
    ("tls_ms", lambda: _("TLS handshake")),
    ("ttfb_ms", lambda: _("Time to first byte")),
    ("response_ms", lambda: _("Total")),
)


def build_target(url: str, options: dict[str, Any]) -> CheckTarget:
    """The check to run, validated as a monitor's would be; CommandError (exit 2) if bad."""
    config: dict[str, Any] = {
        key: value
        for key, value in (
            ("method", options["method"] and options["method"].upper()),
            ("keyword", options["keyword"]),
            ("expected_status", options["expect_status"]),
            ("headers", parse_headers(options["header"])),
            ("json_assert", options["json_assert"]),
        )
        if value
    }
    timeout = options["timeout"]
    if not 0 < timeout <= 120:
        raise CommandError(
            _("--timeout must be over 0 and at most 120 seconds."), returncode=EXIT_BAD_INPUT
        )
    try:
        normalized = http.normalize_target(url)
        valid = http.Options.model_validate(config).model_dump(mode="json", exclude_defaults=True)
    except ValidationError as exc:
        raise CommandError(validation_message(exc), returncode=EXIT_BAD_INPUT) from None
    except ValueError as exc:
        raise CommandError(str(exc), returncode=EXIT_BAD_INPUT) from None
    allowlist = PRIVATE_NETWORKS if options["allow_private"] else ()
    return CheckTarget(0, CheckKind.HTTP, normalized, valid, 0, timeout, allowlist)


def parse_headers(values: list[str]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for value in values:
        name, sep, text = value.partition(":")
        if not sep:
            raise CommandError(
                _("A header is NAME:VALUE, got %(value)s") % {"value": value},
                returncode=EXIT_BAD_INPUT,
            )
        headers[name.strip()] = text.strip()
    return headers


def validation_message(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}" for error in exc.errors()
    )


def outcome_json(target: CheckTarget, outcome: Outcome) -> dict[str, Any]:
    return {
        "url": target.url,
        "state": "up" if outcome.ok else "down",
        "ok": outcome.ok,
        "checked_at": outcome.checked_at.isoformat(),
        "status_code": outcome.status_code,
        "failure_class": outcome.failure_class or None,
        "failure": failure_label(outcome) if outcome.failure_class else None,
        "message": shown_message(outcome),
        "timing": {
            # The whole exchange is "total" here, as in the table.
            ("total_ms" if field == "response_ms" else field): getattr(outcome, field)
            for field, _label in PHASES
        },
        "details": outcome.details or {},
    }


def render(target: CheckTarget, outcome: Outcome, *, tty: bool) -> str:
    """The result as people read it: a summary, then the timing breakdown as a table."""
    buffer = io.StringIO()
    console = Console(
        file=buffer, force_terminal=tty, color_system="auto" if tty else None, width=100
    )
    # Text, not markup strings: a URL like http://[::1]/ or a message must print as it is.
    state = (_("UP"), "bold green") if outcome.ok else (_("DOWN"), "bold red")
    console.print(Text.assemble(state, " ", target.url))
    summary = Table.grid(padding=(0, 2))
    summary.add_row(_("Status"), Text(str(outcome.status_code or "—")))
    if outcome.failure_class:
        label = f"{outcome.failure_class} ({failure_label(outcome)})"
        summary.add_row(_("Failure"), Text(label))
    summary.add_row(_("Message"), Text(shown_message(outcome)))
    console.print(summary)
    timing = Table(title=_("Timing"), title_justify="left")
    timing.add_column(_("Phase"))
    timing.add_column("ms", justify="right")
    for field, phase_label in PHASES:
        value = getattr(outcome, field)
        timing.add_row(phase_label(), "—" if value is None else f"{value:.1f}")
    console.print(timing)
    return buffer.getvalue()
