"""TCP port check: is ``host:port`` open (or closed, when it must be), with the connect time."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Literal

from django.utils import timezone
from pydantic import BaseModel, ConfigDict, ValidationError

from monitoring.engine.target import CheckTarget
from monitoring.failures import FailureClass
from monitoring.logic import Outcome
from sitecare.lib.http import OutboundClient
from sitecare.lib.messages import deferred as _
from sitecare.lib.netconnect import (
    ConnectError,
    ConnectFailure,
    join_host_port,
    open_guarded,
    parse_host_port,
)

# A closed port answers with a refusal; a filtered one (firewall drop) with silence. Both mean
# "not reachable from here", which is what a monitor expecting a closed port asks.
CLOSED_FAILURES = frozenset({ConnectFailure.CONNECTION_REFUSED, ConnectFailure.TIMEOUT})


def normalize_target(value: str) -> str:
    """A TCP monitor points at ``host:port`` (IPv6 as ``[::1]:443``)."""
    return join_host_port(*parse_host_port(value))


def target_host(target: str) -> str | None:
    return parse_host_port(target)[0]


class Options(BaseModel):
    """Kind-specific settings of a TCP port monitor."""

    model_config = ConfigDict(extra="forbid")

    expect: Literal["open", "closed"] = "open"


async def run(target: CheckTarget, outbound: OutboundClient) -> Outcome:
    """Run one TCP port check and say what it found.

    1. Read the monitor's options and target (a stored config that no longer validates is a
       failure of the check, not of the site).
    2. Open a guarded connection within the monitor's timeout, then close it at once.
    3. Judge: an open port is up unless it must be closed; refused or silent is up only then.
    """
    checked_at = timezone.now()
    started = time.perf_counter()
    try:
        options = Options.model_validate(dict(target.config))
        host, port = parse_host_port(target.url)
    except (ValidationError, ValueError) as exc:
        return Outcome(
            target.monitor_id,
            checked_at,
            ok=False,
            failure_class=FailureClass.INTERNAL_ERROR,
            message=_("Invalid options: %(error)s") % {"error": str(exc)[:200]},
        )
    shown = join_host_port(host, port)
    try:
        opened = await open_guarded(
            host, port, allowlist=target.allowlist, timeout_s=target.timeout_s
        )
    except ConnectError as exc:
        return _not_connected(target, checked_at, options, exc, started)
    opened.close()
    elapsed_ms = round((time.perf_counter() - started) * 1000, 1)
    dns_ms, connect_ms = round(opened.dns_ms, 1), round(opened.connect_ms, 1)
    details = {"address": opened.address, "port": port, "expect": options.expect}
    if options.expect == "closed":
        return Outcome(
            target.monitor_id,
            checked_at,
            ok=False,
            response_ms=elapsed_ms,
            failure_class=FailureClass.ASSERTION_FAILED,
            message=_("%(host)s is open but must be closed.") % {"host": shown},
            details=details,
            dns_ms=dns_ms,
            connect_ms=connect_ms,
        )
    return Outcome(
        target.monitor_id,
        checked_at,
        ok=True,
        response_ms=elapsed_ms,
        message=_("%(host)s is open (connected in %(ms)d ms).")
        % {"host": shown, "ms": round(opened.connect_ms)},
        details=details,
        dns_ms=dns_ms,
        connect_ms=connect_ms,
    )


def _not_connected(
    target: CheckTarget, checked_at: datetime, options: Options, exc: ConnectError, started: float
) -> Outcome:
    """The outcome of a connection that failed: a failure, unless the port must be closed."""
    elapsed_ms = round((time.perf_counter() - started) * 1000, 1)
    details = {"expect": options.expect, "phase": exc.phase}
    if options.expect == "closed" and exc.failure in CLOSED_FAILURES:
        return Outcome(
            target.monitor_id,
            checked_at,
            ok=True,
            response_ms=elapsed_ms,
            message=_("%(host)s is closed, as expected.") % {"host": target.url},
            details=details,
        )
    return Outcome(
        target.monitor_id,
        checked_at,
        ok=False,
        response_ms=elapsed_ms,
        failure_class=FailureClass(exc.failure.value),
        message=exc.message,
        details=details,
    )
