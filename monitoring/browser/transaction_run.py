"""One transaction run in an open browser session: the steps in order, each timed and judged.

Each step gets its own timeout (the step's, else the monitor's ``step_timeout``). A step fails
with the first of these that holds (the root cause before its symptom):

1. the page's main document, during the step, was refused (a host in ``block_hosts`` or the
   network policy, e.g. a redirect to it) → REQUEST_BLOCKED; answered HTTP ≥ 400 →
   HTTP_STATUS; failed on the network → DNS_ERROR, CONNECTION_REFUSED, TLS_ERROR…;
2. the step's own failure: its element never appeared → ELEMENT_NOT_FOUND; an ``expect_*``
   did not hold → ASSERTION_FAILED (``expect_status``: HTTP_STATUS); a ``goto`` (or a wait for
   an address) did not arrive in time → NAVIGATION_TIMEOUT; the element was there but the step
   (the click and the page it opened, network idle) did not finish in time → STEP_TIMEOUT;
3. the page raised an uncaught JavaScript exception while the step ran → SCRIPT_ERROR. Only
   exceptions *during* a step count (each is attributed to the step it arrives in); a site
   whose third-party script throws on every page should put that host in ``block_hosts``.
   Exceptions after the last step are listed in the result but fail nothing.

``BrowserStopped`` (the runner killed or lost the browser) ends the run with BROWSER_ERROR.
Reasons are ``sitecare.lib.messages`` data, scrubbed of secrets.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Locator, Page

from monitoring.browser.net_errors import net_error_class, net_error_code
from monitoring.browser.redact import Redactor
from monitoring.browser.session import BrowserSession, BrowserStopped
from monitoring.browser.step_actions import (
    SCREENSHOT_TIMEOUT_MS,
    SECRET_MASK_COLOUR,
    Shot,
    StepActions,
    StepFailed,
)
from monitoring.browser.steps import Step, summary
from monitoring.failures import FailureClass
from sitecare.lib.messages import Message
from sitecare.lib.messages import deferred as _

if TYPE_CHECKING:
    from monitoring.checks.transaction import Options

# Failures of a step that waited for something that never came.
WAITED_IN_VAIN = frozenset(
    {
        FailureClass.STEP_TIMEOUT,
        FailureClass.NAVIGATION_TIMEOUT,
        FailureClass.ELEMENT_NOT_FOUND,
        FailureClass.ASSERTION_FAILED,
    }
)


@dataclass
class StepResult:
    index: int
    action: str
    summary: str
    description: str
    ok: bool
    start_ms: float
    ms: float
    error: str = ""
    extracted: str | None = None

    def as_details(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "index": self.index,
            "action": self.action,
            "summary": self.summary,
            "description": self.description,
            "ok": self.ok,
            "start_ms": round(self.start_ms, 1),
            "ms": round(self.ms, 1),
            "error": self.error,
        }
        if self.extracted is not None:
            data["extracted"] = self.extracted
        return data


@dataclass
class RunRecord:
    """What a run did: its steps, the failure (if any) and the screenshots taken."""

    steps: list[StepResult] = field(default_factory=list)
    failed_step: int | None = None
    failure_class: str = FailureClass.NONE
    message: Message | None = None
    shots: list[Shot] = field(default_factory=list)
    typed_secret: bool = False
    browser_stopped: bool = False


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [""])[0][:200]


@dataclass
class _Marks:
    """How much of each event list existed when a step began."""

    responses: int
    nav_failures: int
    page_errors: int
    blocked: int


class TransactionRun(StepActions):
    """The steps of one transaction, run on an open session's page."""

    def __init__(self, session: BrowserSession, options: Options, start_url: str) -> None:
        self.session = session
        self.page: Page = session.page
        self.options = options
        self.start_url = start_url
        self.values: dict[str, str] = {**options.variables, **options.secrets}
        self.redactor = Redactor(options.secrets.values())
        self.secret_fields: list[Locator] = []
        # The main frame's document responses (status, url) and failed navigations (url, error).
        self.responses: list[tuple[int, str]] = []
        self.nav_failures: list[tuple[str, str]] = []
        # Server errors (5xx) of the page's own fetch/XHR calls (method, url, status), and how
        # many there were when each step began: a pay endpoint that fails behind a page that
        # answered 200 is what the next step's timeout is really about.
        self.server_errors: list[tuple[str, str, int]] = []
        self.step_began: list[int] = []
        self.record = RunRecord()
        self.shots = self.record.shots
        self.typed_secret = False
        self.page.on("response", self._on_response)
        self.page.on("requestfailed", self._on_request_failed)

    def _on_response(self, response: Any) -> None:
        try:
            request = response.request
            if request.resource_type in ("fetch", "xhr") and response.status >= 500:
                self.server_errors.append((request.method, response.url, response.status))
            in_main = request.is_navigation_request()
            in_main = in_main and response.frame == self.page.main_frame
        except PlaywrightError:  # a service worker's response has no frame
            return
        if in_main:
            self.responses.append((response.status, response.url))

    def _on_request_failed(self, request: Any) -> None:
        try:
            in_main = request.is_navigation_request() and request.frame == self.page.main_frame
        except PlaywrightError:  # a service worker's request has no frame
            return
        if in_main:
            self.nav_failures.append((request.url, request.failure or ""))

    # --- the run ------------------------------------------------------------------------

    def run(self) -> RunRecord:
        """Run every step until one fails; the record says what happened."""
        began = time.monotonic()
        for index, step in enumerate(self.options.steps):
            started = time.monotonic()
            result = StepResult(
                index=index,
                action=step.action,
                summary=summary(step),
                description=step.description,
                ok=True,
                start_ms=(started - began) * 1000,
                ms=0.0,
            )
            self.record.steps.append(result)
            failure = self._step(step, index, started)
            result.ms = (time.monotonic() - started) * 1000
            if step.action == "extract" and failure is None and step.into:
                # Text read off the page may be what a secret typed there (a card field).
                result.extracted = self.redactor.text(self.values.get(step.into, ""))
            if failure is not None:
                self._fail(result, step, failure)
                break
        self.record.typed_secret = self.typed_secret
        return self.record

    def _step(self, step: Step, index: int, started: float) -> StepFailed | None:
        deadline = started + self.options.timeout_of(step)
        self.step_began.append(len(self.server_errors))
        marks = _Marks(
            len(self.responses),
            len(self.nav_failures),
            len(self.session.page_errors),
            len(self.session.blocked_requests),
        )
        failure: StepFailed | None = None
        try:
            self._perform(step, index, deadline)
        except StepFailed as exc:
            failure = exc
        except BrowserStopped as exc:
            self.record.browser_stopped = True
            reason = self._reason(_("the browser stopped: %(error)s"), error=_first_line(exc))
            return StepFailed(FailureClass.BROWSER_ERROR, reason)
        except (PlaywrightError, AssertionError) as exc:
            failure = self._unexpected(step, exc)
        found = self._navigation_failure(marks) or failure or self._script_failure(marks)
        return self._behind_server_error(index, found)

    def _behind_server_error(self, index: int, failure: StepFailed | None) -> StepFailed | None:
        """A step that waited in vain (timeout, element or text missing) while the page's own
        request answered 5xx, during it or the step before (a click on Pay, then a wait for the
        order page), fails as that HTTP error, with what it waited for after it."""
        if failure is None or failure.failure_class not in WAITED_IN_VAIN:
            return failure
        since = self.step_began[max(index - 1, 0)]
        if len(self.server_errors) <= since:
            return failure
        method, url, status = self.server_errors[-1]
        reason = _("the page's request %(method)s %(url)s answered HTTP %(status)d; %(then)s") % {
            "method": method,
            "url": self.redactor.text(url[:200]),
            "status": status,
            "then": failure.reason,  # a message of its own, shown in the reader's language
        }
        return StepFailed(FailureClass.HTTP_STATUS, reason)

    def _fail(self, result: StepResult, step: Step, failure: StepFailed) -> None:
        label = step.description or result.summary
        result.ok = False
        result.error = str(failure.reason)
        self.record.failed_step = result.index
        self.record.failure_class = failure.failure_class
        self.record.message = _("Step %(number)d (%(step)s): %(reason)s") % {
            "number": result.index + 1,
            "step": self.redactor.text(label),
            "reason": failure.reason,
        }
        if not self.record.browser_stopped:
            data = self._screenshot()
            if data is not None:
                self.shots.append(Shot(data, result.index, self.redactor.text(label)))

    def _screenshot(self) -> bytes | None:
        """The page as the failing step left it. A navigation still loading (a slow pay
        endpoint) is stopped first: Chromium takes no screenshot until it commits."""
        try:
            cdp = self.session.context.new_cdp_session(self.page)
            cdp.send("Page.stopLoading")
            cdp.detach()
        except (PlaywrightError, BrowserStopped):
            pass
        try:
            return self.page.screenshot(
                type="png",
                timeout=SCREENSHOT_TIMEOUT_MS,
                mask=self.secret_fields,
                mask_color=SECRET_MASK_COLOUR,
            )
        except (PlaywrightError, BrowserStopped):
            return None

    # --- what went wrong ----------------------------------------------------------------

    def _navigation_failure(self, marks: _Marks) -> StepFailed | None:
        """The main document, during this step: refused, answered ≥ 400, or failed to load."""
        failures = [f for f in self.nav_failures[marks.nav_failures :] if "ERR_ABORTED" not in f[1]]
        blocked = self.session.blocked_requests[marks.blocked :]
        for url, _error in failures:
            host = urlsplit(url).hostname or ""
            if any(b.get("host") == host or b.get("url") == url for b in blocked):
                reason = self._reason(_("the request to %(host)s was blocked"), host=host)
                return StepFailed(FailureClass.REQUEST_BLOCKED, reason)
        responses = self.responses[marks.responses :]
        if responses and responses[-1][0] >= 400:
            status, url = responses[-1]
            reason = self._reason(
                _("the page answered HTTP %(status)d (%(url)s)"), status=status, url=url
            )
            return StepFailed(FailureClass.HTTP_STATUS, reason)
        if failures:
            url, error = failures[-1]
            upstream = self.session.upstream_failure(url)
            if upstream and upstream[0]:
                # Behind the guard proxy Chromium sees only an empty reply or a failed
                # tunnel; the proxy knows the real reason (refused, no DNS, timeout).
                reason = self._reason(
                    _("the page could not be loaded: %(error)s"), error=upstream[1]
                )
                return StepFailed(upstream[0], reason)
            return self._net_failure(error)
        return None

    def _net_failure(self, error: str) -> StepFailed:
        code = net_error_code(error) or error[:100]
        failure_class = net_error_class(error, FailureClass.INVALID_RESPONSE)
        return StepFailed(
            failure_class, self._reason(_("the page could not be loaded: %(error)s"), error=code)
        )

    def _script_failure(self, marks: _Marks) -> StepFailed | None:
        errors = self.session.page_errors[marks.page_errors :]
        if not errors:
            return None
        text = str(errors[0].get("message", ""))[:200]
        reason = self._reason(_("the page raised a JavaScript error: %(error)s"), error=text)
        return StepFailed(FailureClass.SCRIPT_ERROR, reason)

    def _unexpected(self, step: Step, exc: BaseException) -> StepFailed:
        """A Playwright error no step method expected (the element is of the wrong sort, a
        closed page…): its first line, under the class that fits the step."""
        text = _first_line(exc)
        if "net::" in text:
            return self._net_failure(text)
        if "closed" in text:
            return StepFailed(
                FailureClass.BROWSER_ERROR,
                self._reason(_("the browser stopped: %(error)s"), error=text),
            )
        failure_class = (
            FailureClass.ELEMENT_NOT_FOUND if step.locator_key else FailureClass.INTERNAL_ERROR
        )
        return StepFailed(failure_class, self._reason(_("the step failed: %(error)s"), error=text))
