"""Browser checks as jobs: one check of one browser monitor, recorded like any other result.

The job runner (``jobs``) runs :func:`browser_check` in a worker process: it loads the monitor
as the engine would (a ``CheckTarget`` under its organization's allowlist), runs the kind's
``run_in_browser`` and hands the layer an effect that records the outcome through
``monitoring.logic.record_results`` (plus the kind's ``record_extra``) in the transaction that
finishes the job, so confirmation, incidents, maintenance windows, pauses and the SLA apply
unchanged, and a job run twice (its runner killed and the job taken over) records once.
Jobs are queued by ``monitoring.browser_schedule``.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.utils import timezone

from jobs.registry import Finish, Payload, job
from monitoring.browser.redact import Redactor
from monitoring.checks import BROWSER_KINDS, KINDS, secret_fields
from monitoring.engine.store import allowlist_of, target_of
from monitoring.engine.target import CheckTarget
from monitoring.failures import FailureClass
from monitoring.logic import Outcome, record_results
from monitoring.models import CheckKind, Monitor
from sitecare.lib.messages import deferred as _

logger = logging.getLogger("sitecare.jobs")

BROWSER_CHECK = "monitoring.browser_check"
# Page speed measurements run on a queue of their own: never two at once on one runner.
QUEUE_OF_KIND: dict[str, str] = {CheckKind.SPEED: "speed"}


def queue_of(kind: str) -> str:
    return QUEUE_OF_KIND.get(kind, "browser")


def load_target(monitor_id: int) -> CheckTarget | None:
    """The monitor as a check sees it; None when it is gone, paused or no longer a browser
    check (its queued job then ends quietly)."""
    monitor = (
        Monitor.objects.filter(pk=monitor_id, enabled=True, kind__in=sorted(BROWSER_KINDS))
        .select_related("site__client__organization")
        .first()
    )
    if monitor is None:
        return None
    return target_of(monitor, allowlist_of(monitor.site.client.organization))


def record(outcome: Outcome) -> None:
    """Record one browser check's outcome (inside the job's finishing transaction).

    A monitor paused or deleted while its check ran gets nothing: a paused monitor's time is
    nobody's, as in the engine, which drops checks of monitors it no longer runs.
    """
    kind = Monitor.objects.filter(pk=outcome.monitor_id, enabled=True).values_list(
        "kind", flat=True
    )
    found = kind.first()
    if found is None:
        return
    record_results([outcome])
    extra = KINDS[found].record_extra if found in KINDS else None
    if extra is not None:
        extra(outcome)


def _give_up(payload: Payload, error: str) -> None:
    """Out of attempts (the check overran its time limit, or its worker died, each time):
    the monitor gets a failed result, so a page that always hangs the browser cannot look up."""
    if error.startswith("timed out"):
        message = _("The check did not finish in time.")
    else:
        message = _("The check could not be run.")
    outcome = Outcome(
        int(payload["monitor_id"]),
        timezone.now(),
        ok=False,
        failure_class=FailureClass.BROWSER_ERROR,
        message=message,
    )
    record(outcome)


@job(
    BROWSER_CHECK,
    queue="browser",
    timeout=settings.SITECARE_BROWSER_JOB_TIMEOUT,
    max_attempts=2,
    backoff_base=5.0,
    backoff_cap=60.0,
    on_give_up=_give_up,
)
def browser_check(payload: Payload) -> Finish:
    """Run one browser check of ``payload["monitor_id"]`` and record its outcome once.

    1. Load the monitor; gone, paused or no longer a browser kind: end quietly.
    2. Run the kind's ``run_in_browser`` (synchronously, in this worker). A crash of the check
       code is a failed check (as in the engine), not a failed job.
    3. Hand back the outcome's recording as the job's effect.
    """
    target = load_target(int(payload["monitor_id"]))
    if target is None:
        return Finish(result={"skipped": "the monitor is gone, paused or not a browser check"})
    run = KINDS[target.kind].run_in_browser
    assert run is not None  # load_target keeps browser kinds only
    started = timezone.now()
    try:
        outcome = run(target)
    except Exception as exc:
        # Playwright's call logs can quote what a step typed: the log gets no secret either.
        shown = secret_redactor(target).text("".join(traceback.format_exception(exc)))
        logger.error("browser check of monitor %s crashed:\n%s", target.monitor_id, shown)
        outcome = Outcome(
            target.monitor_id,
            started,
            ok=False,
            failure_class=FailureClass.INTERNAL_ERROR,
            message=_("The check could not be run."),
        )
    summary = {"ok": outcome.ok, "failure_class": outcome.failure_class}
    return Finish(result=summary, effect=lambda: record(outcome))


def secret_redactor(target: CheckTarget) -> Redactor:
    """Masks every secret string in the monitor's options (its kind's SECRET_FIELDS)."""
    return Redactor(_strings([target.config.get(name) for name in secret_fields(target.kind)]))


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        if value:
            yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)
