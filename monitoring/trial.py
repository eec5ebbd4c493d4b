"""A trial check: one check of a definition not saved yet ("test before saving"), through the
kind's own ``run`` and the engine's guarded outbound client, under the agency's network policy.
Nothing is stored."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from monitoring.checks import http, kind_spec
from monitoring.engine.target import CheckTarget
from monitoring.failures import FailureClass
from monitoring.logic import Outcome
from monitoring.spec import MonitorDefinition
from sitecare.lib.http import OutboundClient
from sitecare.lib.netpolicy import IPNetwork

# The phases a kind may report, in the order an exchange goes through them.
PHASES = ("dns_ms", "connect_ms", "tls_ms", "ttfb_ms", "response_ms")


def shown_message(outcome: Outcome) -> str:
    """The outcome's message; a success without one reads as its status and time."""
    if outcome.message or not outcome.ok:
        return outcome.message
    return http.success_message(outcome.status_code, outcome.response_ms)


def failure_label(outcome: Outcome) -> str:
    """The failure class in the reader's words ("" for a success)."""
    if not outcome.failure_class:
        return ""
    try:
        return str(FailureClass(outcome.failure_class).label)
    except ValueError:  # a class this version does not know
        return outcome.failure_class


@dataclass(frozen=True)
class TrialResult:
    """What one trial check found, ready to show."""

    outcome: Outcome

    @property
    def ok(self) -> bool:
        return self.outcome.ok

    @property
    def message(self) -> str:
        return shown_message(self.outcome)

    @property
    def failure_label(self) -> str:
        return failure_label(self.outcome)

    @property
    def timings(self) -> list[tuple[str, float]]:
        """(phase, milliseconds) for each phase the kind reported."""
        found = [(name, getattr(self.outcome, name)) for name in PHASES]
        return [(name, value) for name, value in found if value is not None]


def trial_target(definition: MonitorDefinition, allowlist: tuple[IPNetwork, ...]) -> CheckTarget:
    """The engine's view of an unsaved monitor (id 0: it has none)."""
    common = definition.common
    return CheckTarget(
        monitor_id=0,
        kind=common.kind,
        url=common.url,
        config=dict(definition.options),
        interval_s=float(common.interval),
        timeout_s=float(common.timeout),
        allowlist=tuple(allowlist),
    )


async def check_once(target: CheckTarget) -> Outcome:
    """One check through the kind's own run function and the engine's outbound client."""
    async with OutboundClient() as client:
        return await kind_spec(target.kind).run(target, client)


def run_trial(definition: MonitorDefinition, allowlist: tuple[IPNetwork, ...]) -> TrialResult:
    """Run one check of the definition now and say what it found (called from sync code)."""
    return TrialResult(asyncio.run(check_once(trial_target(definition, allowlist))))
