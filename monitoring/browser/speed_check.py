"""Running one speed check: N loads in fresh throttled sessions, judged by ``checks.speed``.

This module loads Playwright; the kind's options and judgement (``monitoring.checks.speed``)
do not, so only the processes that run browser checks import it.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.utils import timezone
from playwright.sync_api import Error as PlaywrightError

from monitoring.browser.net_errors import net_error_class, net_error_code
from monitoring.browser.page_load import NavigationFailed, measure_load
from monitoring.browser.session import BrowserStopped, SessionOptions, open_session
from monitoring.browser.vitals import LoadFigures, Profile
from monitoring.checks.speed import SESSION_SLACK_S, Options, judged, known_environments
from monitoring.engine.target import CheckTarget
from monitoring.failures import FailureClass
from monitoring.logic import Outcome
from sitecare.lib.messages import Message
from sitecare.lib.messages import deferred as _

logger = logging.getLogger(__name__)


def run_in_browser(target: CheckTarget, *, keep_artifacts: bool = True) -> Outcome:
    """Measure the page ``runs`` times, each in a fresh session, and judge the medians.

    1. Read the known environments (before any browser session: the database is not used
       while one is open in this thread).
    2. Load the page in a fresh session per run (a failed load ends the check: its failure).
    3. Take the median of each figure, tag it with the environment (Chromium, CPU score).
    4. Judge the medians against the budgets.
    Speed checks keep no files: ``keep_artifacts`` changes nothing.
    """
    now = timezone.now()
    options = Options.model_validate(dict(target.config))
    known = known_environments(options.profile, now)
    loads: list[LoadFigures] = []
    version = ""
    for _run in range(options.runs):
        try:
            load, version = _one_load(target, options)
        except NavigationFailed as exc:
            return _failed(target, now, navigation_class(exc), _navigation_message(exc))
        except BrowserStopped as exc:
            logger.warning("speed check of monitor %s: browser stopped: %s", target.monitor_id, exc)
            if exc.reason == "heavy":
                return _failed(target, now, FailureClass.BODY_TOO_LARGE, exc.message)
            return _failed(target, now, FailureClass.BROWSER_ERROR, _("The browser was stopped."))
        except PlaywrightError as exc:  # the page crashed, or navigated away while measured
            logger.info("speed check of monitor %s: %s", target.monitor_id, exc)
            message = _("The browser could not measure the page: %(error)s") % {
                "error": str(exc).splitlines()[0][:200]
            }
            return _failed(target, now, FailureClass.BROWSER_ERROR, message)
        if load.status is not None and load.status >= 400:
            message = _("The page answered HTTP %(status)d.") % {"status": load.status}
            return _failed(target, now, FailureClass.HTTP_STATUS, message, status=load.status)
        loads.append(load)
    return judged(target, now, options, loads, version, known)


def _one_load(target: CheckTarget, options: Options) -> tuple[LoadFigures, str]:
    session_options = SessionOptions(
        allowlist=target.allowlist,
        blocked_hosts=tuple(options.block_hosts),
        mobile=options.profile == "mobile",
        timeout_s=target.timeout_s + SESSION_SLACK_S,
        record_trace=False,
        exclusive=True,  # never two speed measurements at once on one runner
    )
    profile: Profile = options.profile
    with open_session(session_options) as session:
        try:
            load = measure_load(session, target.url, profile=profile, timeout_s=target.timeout_s)
        except NavigationFailed as exc:
            exc.upstream = session.upstream_failure(target.url)
            raise
        return load, session.browser_version


def navigation_class(exc: NavigationFailed) -> str:
    """The failure class of a page that did not load."""
    if exc.upstream and exc.upstream[0]:
        return exc.upstream[0]
    if exc.timed_out:
        return FailureClass.NAVIGATION_TIMEOUT
    return net_error_class(exc.error, FailureClass.BROWSER_ERROR)


def _navigation_message(exc: NavigationFailed) -> Message:
    if exc.upstream:
        return _("The page did not load: %(error)s") % {"error": exc.upstream[1]}
    if exc.timed_out:
        return _("The page did not finish loading in time.")
    # Chromium's own error code (net::ERR_…) is the same in every language.
    code = net_error_code(exc.error)
    detail = f"net::{code}" if code else exc.error[:200]
    return _("The page did not load: %(error)s") % {"error": detail}


def _failed(
    target: CheckTarget, now: datetime, failure: str, message: str, *, status: int | None = None
) -> Outcome:
    return Outcome(
        target.monitor_id, now, ok=False, status_code=status, failure_class=failure, message=message
    )
