"""A trial check: one check of a definition not saved yet ("test before saving"), through the
kind's own ``run`` and the engine's guarded outbound client, under the agency's network policy
(browser kinds: their ``run_in_browser``, in a thread of its own). Nothing is stored."""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string

from monitoring.checks import BrowserRunner, http, kind_spec
from monitoring.engine.target import CheckTarget
from monitoring.failures import FailureClass
from monitoring.logic import Outcome
from monitoring.spec import MonitorDefinition
from sitecare.lib.http import OutboundClient
from sitecare.lib.messages import deferred as _
from sitecare.lib.netpolicy import IPNetwork

logger = logging.getLogger("sitecare.trial")

# The browser pool (loads Playwright): imported by the browser kinds' runners, never here.
BROWSER_POOL_MODULE = "monitoring.browser.pool"
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


def _release_thread_browser() -> None:
    """Close the browser this trial's thread launched: the pool keeps one per thread for its
    next check, and this thread has none (each trial left a Chromium running in the web
    server until it stopped). Loaded by path only once the pool is: Playwright stays out of
    processes that ran no browser check (``monitoring.checks.browser_runner``)."""
    if BROWSER_POOL_MODULE in sys.modules:
        import_string(f"{BROWSER_POOL_MODULE}.release_thread_browser")()


def browser_check_once(run: BrowserRunner, target: CheckTarget, limit: float) -> Outcome:
    """One browser check, keeping nothing, in a thread of its own, waited for ``limit`` s.

    Sync Playwright refuses to run in a thread with a running asyncio loop (a view served
    under ASGI has one), so the check never runs in the caller's thread. Past the limit the
    answer is a timeout; the thread is left to end with its browser session's own time limit.
    """
    found: list[Outcome] = []

    def check() -> None:
        try:
            found.append(run(target, keep_artifacts=False))
        except Exception:
            logger.exception("trial browser check of %s crashed", target.url)
        finally:
            _release_thread_browser()

    started = timezone.now()
    worker = threading.Thread(target=check, name="browser-trial", daemon=True)
    worker.start()
    worker.join(limit)
    if found:
        return found[0]
    failure = FailureClass.INTERNAL_ERROR
    message = _("The check could not be run.")
    if worker.is_alive():
        failure, message = FailureClass.TIMEOUT, _("The check did not finish in time.")
    return Outcome(target.monitor_id, started, ok=False, failure_class=failure, message=message)


def run_trial(
    definition: MonitorDefinition, allowlist: tuple[IPNetwork, ...], *, limit: float | None = None
) -> TrialResult:
    """Run one check of the definition now and say what it found (called from sync code);
    a browser check is bounded by ``limit`` (default: a browser job's time limit)."""
    target = trial_target(definition, allowlist)
    in_browser = kind_spec(target.kind).run_in_browser
    if in_browser is not None:
        bound = settings.SITECARE_BROWSER_JOB_TIMEOUT if limit is None else limit
        return TrialResult(browser_check_once(in_browser, target, bound))
    return TrialResult(asyncio.run(check_once(target)))
