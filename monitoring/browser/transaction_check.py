"""Running one transaction: the steps in a browser session, turned into an ``Outcome``.

Artifacts: a failed run keeps a screenshot of the page at the failing step and the Playwright
trace (``trace.zip``); ``screenshot`` steps keep their image on every run. The trace of a
passing run is not kept: a few hundred kilobytes to megabytes per run, every few minutes, for
something nobody opens while the checkout works.
"""

from __future__ import annotations

import logging
import uuid
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Any

from django.utils import timezone
from playwright.sync_api import Error as PlaywrightError
from pydantic import ValidationError

from monitoring.browser import artifacts
from monitoring.browser.redact import Redactor, scrub_trace
from monitoring.browser.session import (
    BrowserSession,
    BrowserStopped,
    SessionOptions,
    open_session,
)
from monitoring.browser.transaction_run import RunRecord, TransactionRun
from monitoring.checks.transaction import Options, check_budget_s
from monitoring.engine.target import CheckTarget
from monitoring.failures import FailureClass
from monitoring.logic import Outcome
from monitoring.models import ArtifactKind, BrowserArtifact
from sitecare.lib.messages import deferred as _

logger = logging.getLogger(__name__)

# Events of the page kept per list in a result (a chatty page logs thousands).
MAX_EVENTS = 50


def run_in_browser(target: CheckTarget, *, keep_artifacts: bool = True) -> Outcome:
    """Run one transaction in a browser session and say what it found.

    1. Read the options (settings that no longer validate fail the check, naming none).
    2. Open one session (the whole run's budget, the monitor's blocked hosts and device) and
       run the steps; on a failure save the trace, scrubbed of secrets.
    3. After the session: keep the screenshots and the trace (unless a trial), and build the
       result's details (``docs``: contracts of issue 12).
    """
    checked_at = timezone.now()
    try:
        options = Options.model_validate(dict(target.config))
    except ValidationError:
        return _broken(target, checked_at, _("The transaction's settings are not valid."))
    session_options = SessionOptions(
        allowlist=target.allowlist,
        blocked_hosts=tuple(options.block_hosts),
        mobile=options.device == "mobile",
        timeout_s=check_budget_s(options),
        record_trace=True,
    )
    trace: tuple[uuid.UUID, Path] | None = None
    try:
        with open_session(session_options) as session:
            run = TransactionRun(session, options, target.url)
            record = run.run()
            if keep_artifacts and record.failed_step is not None and not record.browser_stopped:
                trace = _save_trace(session, target.monitor_id, run.redactor, record.typed_secret)
            events = _events(session, run.redactor)
            browser = session.browser_version
    except BrowserStopped as exc:
        # The runner stopped the check: its pages downloaded too much, it overran its time
        # or its memory, or the browser crashed.
        if exc.reason == "heavy":
            return _broken(target, checked_at, exc.message, FailureClass.BODY_TOO_LARGE)
        timed_out = exc.reason == "timeout"
        failure = FailureClass.STEP_TIMEOUT if timed_out else FailureClass.BROWSER_ERROR
        return _broken(target, checked_at, exc.message, failure)
    except PlaywrightError as exc:
        # The browser failed outside any step (it did not start, or died while closing).
        error = Redactor(options.secrets.values()).text(str(exc).splitlines()[0])[:200]
        reason = _("The browser failed: %(error)s") % {"error": error}
        return _broken(target, checked_at, reason, FailureClass.BROWSER_ERROR)
    kept = _keep(target.monitor_id, checked_at, record, trace) if keep_artifacts else []
    details: dict[str, Any] = {
        "device": options.device,
        "browser": browser,
        "steps": [step.as_details() for step in record.steps],
        "failed_step": record.failed_step,
        **events,
        "artifacts": kept,
    }
    return Outcome(
        target.monitor_id,
        checked_at,
        ok=record.failed_step is None,
        status_code=run.final_status(),
        response_ms=round(sum(step.ms for step in record.steps), 1),
        failure_class=record.failure_class,
        message=record.message or "",
        details=details,
    )


def _broken(
    target: CheckTarget,
    checked_at: datetime,
    message: str,
    failure_class: str = FailureClass.INTERNAL_ERROR,
) -> Outcome:
    return Outcome(
        target.monitor_id, checked_at, ok=False, failure_class=failure_class, message=message
    )


def _save_trace(
    session: BrowserSession, monitor_id: int, redactor: Redactor, typed_secret: bool
) -> tuple[uuid.UUID, Path] | None:
    """The session's trace at a new artifact path, scrubbed; None when it could not be saved."""
    artifact_id, path = artifacts.new_path(monitor_id, ArtifactKind.TRACE)
    try:
        session.save_trace(path)
        scrub_trace(path, redactor, drop_screencast=typed_secret)
    except (PlaywrightError, BrowserStopped, OSError, zipfile.BadZipFile):
        logger.warning("transaction %s: the trace could not be saved", monitor_id, exc_info=True)
        path.unlink(missing_ok=True)
        return None
    return (artifact_id, path) if path.is_file() else None


def _events(session: BrowserSession, redactor: Redactor) -> dict[str, list[dict[str, Any]]]:
    """What the page did besides the steps, capped and scrubbed of secrets."""
    lists = {
        "console_errors": session.console_errors,
        "page_errors": session.page_errors,
        "failed_requests": session.failed_requests,
        "blocked_requests": session.blocked_requests,
    }
    return {name: redactor.deep(items[:MAX_EVENTS]) for name, items in lists.items()}


def _keep(
    monitor_id: int,
    checked_at: datetime,
    record: RunRecord,
    trace: tuple[uuid.UUID, Path] | None,
) -> list[dict[str, Any]]:
    """Store the run's screenshots and trace; their entries for the result's details."""
    kept: list[BrowserArtifact] = [
        artifacts.keep(
            monitor_id,
            checked_at,
            ArtifactKind.SCREENSHOT,
            data=shot.data,
            step=shot.step,
            caption=shot.caption,
        )
        for shot in record.shots
    ]
    if trace is not None:
        kept.append(
            artifacts.keep(
                monitor_id, checked_at, ArtifactKind.TRACE, written=trace, step=record.failed_step
            )
        )
    return [{"id": str(a.id), "kind": a.kind, "step": a.step, "caption": a.caption} for a in kept]
