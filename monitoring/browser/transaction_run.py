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

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Locator, Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from monitoring.browser.redact import Redactor
from monitoring.browser.session import BrowserSession, BrowserStopped
from monitoring.browser.steps import REFERENCE, Step, element_summary, substitute, summary
from monitoring.failures import FailureClass
from sitecare.lib.messages import Message
from sitecare.lib.messages import deferred as _

if TYPE_CHECKING:
    from monitoring.checks.transaction import Options

NET_ERROR = re.compile(r"net::(ERR_[A-Z_]+)")
# Chromium's network errors as failure classes (a refusal by our own guard is found first,
# from the session's blocked requests).
NET_CLASSES: tuple[tuple[str, str], ...] = (
    ("ERR_NAME_", FailureClass.DNS_ERROR),
    ("ERR_CONNECTION_REFUSED", FailureClass.CONNECTION_REFUSED),
    ("ERR_TUNNEL_CONNECTION_FAILED", FailureClass.CONNECTION_REFUSED),
    ("ERR_CONNECTION_RESET", FailureClass.CONNECTION_RESET),
    ("ERR_CONNECTION_CLOSED", FailureClass.CONNECTION_RESET),
    ("ERR_CERT_", FailureClass.TLS_ERROR),
    ("ERR_SSL_", FailureClass.TLS_ERROR),
    ("ERR_TIMED_OUT", FailureClass.NAVIGATION_TIMEOUT),
    ("ERR_CONNECTION_TIMED_OUT", FailureClass.NAVIGATION_TIMEOUT),
    ("ERR_TOO_MANY_REDIRECTS", FailureClass.TOO_MANY_REDIRECTS),
    ("ERR_BLOCKED_BY_", FailureClass.REQUEST_BLOCKED),
)
REDIRECTS = frozenset({301, 302, 303, 307, 308})
SCREENSHOT_TIMEOUT_MS = 5_000


class StepFailed(Exception):
    """A step did not do what it says; the class and reason of the result."""

    def __init__(self, failure_class: str, reason: Message) -> None:
        super().__init__(reason)
        self.failure_class = failure_class
        self.reason = reason


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
class Shot:
    """A screenshot to keep: a ``screenshot`` step's, or the page at the failing step."""

    data: bytes
    step: int
    caption: str


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


def glob_regex(pattern: str) -> re.Pattern[str]:
    """Playwright's URL glob: ``**`` any text, ``*`` any text without ``/``."""
    parts = re.split(r"(\*\*|\*)", pattern)
    table = {"**": ".*", "*": "[^/]*"}
    return re.compile("^" + "".join(table.get(p, re.escape(p)) for p in parts) + "$")


def _seconds(value: float) -> float | int:
    return int(value) if float(value).is_integer() else round(value, 1)


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [""])[0][:200]


@dataclass
class _Marks:
    """How much of each event list existed when a step began."""

    responses: int
    nav_failures: int
    page_errors: int
    blocked: int


class TransactionRun:
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
        self.record = RunRecord()
        self.page.on("response", self._on_response)
        self.page.on("requestfailed", self._on_request_failed)

    def _on_response(self, response: Any) -> None:
        if response.request.is_navigation_request() and response.frame == self.page.main_frame:
            self.responses.append((response.status, response.url))

    def _on_request_failed(self, request: Any) -> None:
        try:
            in_main = request.is_navigation_request() and request.frame == self.page.main_frame
        except PlaywrightError:  # a service worker's request has no frame
            return
        if in_main:
            self.nav_failures.append((request.url, request.failure or ""))

    def final_status(self) -> int | None:
        """The status of the last main document that was not a redirect."""
        final = [status for status, _url in self.responses if status not in REDIRECTS]
        return final[-1] if final else None

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
                result.extracted = self.values.get(step.into, "")
            if failure is not None:
                self._fail(result, step, failure)
                break
        return self.record

    def _step(self, step: Step, index: int, started: float) -> StepFailed | None:
        deadline = started + self.options.timeout_of(step)
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
        return self._navigation_failure(marks) or failure or self._script_failure(marks)

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
                self.record.shots.append(Shot(data, result.index, self.redactor.text(label)))

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
                type="png", timeout=SCREENSHOT_TIMEOUT_MS, mask=self.secret_fields
            )
        except (PlaywrightError, BrowserStopped):
            return None

    def _reason(self, template: Message, **args: Any) -> Message:
        """A reason as data (``template`` is ``_("…")``), its text arguments scrubbed of secrets."""
        clean = {k: self.redactor.text(v) if isinstance(v, str) else v for k, v in args.items()}
        message: Message = template % clean if clean else template
        return message

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
            return self._net_failure(failures[-1][1])
        return None

    def _net_failure(self, error: str) -> StepFailed:
        match = NET_ERROR.search(error)
        code = match.group(1) if match else error[:100]
        failure_class = next(
            (cls for prefix, cls in NET_CLASSES if code.startswith(prefix)),
            FailureClass.INVALID_RESPONSE,
        )
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

    # --- the actions --------------------------------------------------------------------

    def _perform(self, step: Step, index: int, deadline: float) -> None:
        actions: dict[str, Callable[[Step, int, float], None]] = {
            "goto": self._goto,
            "click": self._click,
            "fill": self._fill,
            "select": self._select,
            "check": self._check,
            "press": self._press,
            "wait_for": self._wait_for,
            "expect_text": self._expect_text,
            "expect_visible": self._expect_visible,
            "expect_url": self._expect_url,
            "expect_title": self._expect_title,
            "expect_status": self._expect_status,
            "extract": self._extract,
            "screenshot": self._take_screenshot,
        }
        actions[step.action](step, index, deadline)

    @staticmethod
    def _left_ms(deadline: float) -> float:
        return max(1.0, (deadline - time.monotonic()) * 1000)

    def _text(self, template: str | None) -> str:
        return substitute(template or "", self.values)

    def _timeout(self, step: Step, template: Message | None = None) -> StepFailed:
        seconds = _seconds(self.options.timeout_of(step))
        template = template or _("did not finish within %(seconds)s s")
        return StepFailed(FailureClass.STEP_TIMEOUT, self._reason(template, seconds=seconds))

    def _locator(self, step: Step) -> Locator:
        page = self.page
        if step.role is not None:
            return page.get_by_role(step.role, name=step.name, exact=step.exact)  # type: ignore[arg-type]
        if step.label is not None:
            return page.get_by_label(step.label, exact=step.exact)
        if step.text is not None:
            return page.get_by_text(step.text, exact=step.exact)
        if step.test_id is not None:
            return page.get_by_test_id(step.test_id)
        return page.locator(f"css={step.css}")

    def _element(self, step: Step, deadline: float, *, expected: bool = False) -> Locator:
        """The step's element once visible; ELEMENT_NOT_FOUND (an expectation's:
        ASSERTION_FAILED) when it does not appear in time or is not one element."""
        locator = self._locator(step)
        element = element_summary(step)
        failure_class = (
            FailureClass.ASSERTION_FAILED if expected else FailureClass.ELEMENT_NOT_FOUND
        )
        seconds = _seconds(self.options.timeout_of(step))
        try:
            locator.wait_for(state="visible", timeout=self._left_ms(deadline))
        except PlaywrightTimeoutError:
            count = locator.count()
            template = (
                _("%(element)s is on the page but not visible (waited %(seconds)s s)")
                if count
                else _("no element matches %(element)s (waited %(seconds)s s)")
            )
            reason = self._reason(template, element=element, seconds=seconds)
            raise StepFailed(failure_class, reason) from None
        except PlaywrightError as exc:
            if "strict mode violation" not in str(exc):
                raise
            reason = self._reason(
                _("%(element)s matches %(count)d elements; the step needs exactly one"),
                element=element,
                count=locator.count(),
            )
            raise StepFailed(FailureClass.ELEMENT_NOT_FOUND, reason) from None
        return locator

    def _settled(self, step: Step, deadline: float) -> None:
        """After a click or key press: the page it opened has loaded, within the step's time."""
        try:
            self.page.wait_for_load_state("load", timeout=self._left_ms(deadline))
        except PlaywrightTimeoutError:
            raise self._timeout(step) from None

    def _goto(self, step: Step, index: int, deadline: float) -> None:
        url = urljoin(self.start_url, self._text(step.url))
        if urlsplit(url).scheme not in ("http", "https"):
            reason = self._reason(
                _("only http and https addresses can be opened: %(url)s"), url=url
            )
            raise StepFailed(FailureClass.BLOCKED_BY_POLICY, reason)
        try:
            self.page.goto(url, timeout=self._left_ms(deadline), wait_until="load")
        except PlaywrightTimeoutError:
            seconds = _seconds(self.options.timeout_of(step))
            reason = self._reason(_("the page did not load within %(seconds)s s"), seconds=seconds)
            raise StepFailed(FailureClass.NAVIGATION_TIMEOUT, reason) from None

    def _click(self, step: Step, index: int, deadline: float) -> None:
        element = self._element(step, deadline)
        try:
            element.click(timeout=self._left_ms(deadline))
        except PlaywrightTimeoutError:
            raise self._timeout(step) from None
        self._settled(step, deadline)

    def _fill(self, step: Step, index: int, deadline: float) -> None:
        element = self._element(step, deadline)
        names = {match.group(1) for match in REFERENCE.finditer(step.value or "")}
        if names & self.options.secrets.keys():
            # Masked in every screenshot from now on; the trace's frames are dropped.
            self.secret_fields.append(element)
            self.record.typed_secret = True
        try:
            element.fill(self._text(step.value), timeout=self._left_ms(deadline))
        except PlaywrightTimeoutError:
            raise self._timeout(step) from None

    def _select(self, step: Step, index: int, deadline: float) -> None:
        element = self._element(step, deadline)
        value = self._text(step.value)
        try:
            element.select_option(value, timeout=self._left_ms(deadline))
        except PlaywrightTimeoutError:
            reason = self._reason(
                _("%(element)s has no option “%(value)s”"),
                element=element_summary(step),
                value=value,
            )
            raise StepFailed(FailureClass.ELEMENT_NOT_FOUND, reason) from None
        self._settled(step, deadline)

    def _check(self, step: Step, index: int, deadline: float) -> None:
        element = self._element(step, deadline)
        try:
            element.set_checked(step.checked is not False, timeout=self._left_ms(deadline))
        except PlaywrightTimeoutError:
            raise self._timeout(step) from None

    def _press(self, step: Step, index: int, deadline: float) -> None:
        key = self._text(step.key)
        try:
            if step.locator_key is not None:
                self._element(step, deadline).press(key, timeout=self._left_ms(deadline))
            else:
                self.page.keyboard.press(key)
        except PlaywrightTimeoutError:
            raise self._timeout(step) from None
        self._settled(step, deadline)

    def _wait_for(self, step: Step, index: int, deadline: float) -> None:
        if step.locator_key is not None:
            self._element(step, deadline)
        elif step.url is not None:
            pattern = self._text(step.url)
            try:
                self.page.wait_for_url(glob_regex(pattern), timeout=self._left_ms(deadline))
            except PlaywrightTimeoutError:
                reason = self._reason(
                    _("the address did not become %(pattern)s in %(seconds)s s (it is %(url)s)"),
                    pattern=pattern,
                    seconds=_seconds(self.options.timeout_of(step)),
                    url=self.page.url,
                )
                raise StepFailed(FailureClass.NAVIGATION_TIMEOUT, reason) from None
        else:
            try:
                self.page.wait_for_load_state("networkidle", timeout=self._left_ms(deadline))
            except PlaywrightTimeoutError:
                idle = _("the network did not become idle within %(seconds)s s")
                raise self._timeout(step, idle) from None

    def _expect_text(self, step: Step, index: int, deadline: float) -> None:
        text = self._text(step.contains)
        scope = self._element(step, deadline) if step.locator_key else self.page.locator("body")
        try:
            expect(scope).to_contain_text(
                text, timeout=self._left_ms(deadline), use_inner_text=True
            )
        except AssertionError:
            if step.locator_key:
                template = _("%(element)s does not contain “%(text)s”")
                reason = self._reason(template, element=element_summary(step), text=text)
            else:
                reason = self._reason(_("the page does not contain “%(text)s”"), text=text)
            raise StepFailed(FailureClass.ASSERTION_FAILED, reason) from None

    def _expect_visible(self, step: Step, index: int, deadline: float) -> None:
        self._element(step, deadline, expected=True)

    def _expect_url(self, step: Step, index: int, deadline: float) -> None:
        pattern = self._text(step.url)
        try:
            expect(self.page).to_have_url(glob_regex(pattern), timeout=self._left_ms(deadline))
        except AssertionError:
            reason = self._reason(
                _("the address is %(url)s, expected %(pattern)s"),
                url=self.page.url,
                pattern=pattern,
            )
            raise StepFailed(FailureClass.ASSERTION_FAILED, reason) from None

    def _expect_title(self, step: Step, index: int, deadline: float) -> None:
        title = self._text(step.title)
        try:
            expect(self.page).to_have_title(
                re.compile(re.escape(title)), timeout=self._left_ms(deadline)
            )
        except AssertionError:
            reason = self._reason(
                _("the title is “%(title)s”, expected it to contain “%(expected)s”"),
                title=self.page.title()[:200],
                expected=title,
            )
            raise StepFailed(FailureClass.ASSERTION_FAILED, reason) from None

    def _expect_status(self, step: Step, index: int, deadline: float) -> None:
        status = self.final_status()
        if status is None:
            raise StepFailed(FailureClass.HTTP_STATUS, self._reason(_("no page was loaded yet")))
        if status != step.status:
            reason = self._reason(
                _("the page answered HTTP %(status)d, expected %(expected)d"),
                status=status,
                expected=step.status,
            )
            raise StepFailed(FailureClass.HTTP_STATUS, reason)

    def _extract(self, step: Step, index: int, deadline: float) -> None:
        element = self._element(step, deadline)
        try:
            text = element.input_value(timeout=self._left_ms(deadline))
        except PlaywrightError:  # not a form field: its visible text
            text = element.inner_text(timeout=self._left_ms(deadline))
        text = " ".join(text.split())[:500]
        if not text:
            reason = self._reason(
                _("%(element)s has no text to extract"), element=element_summary(step)
            )
            raise StepFailed(FailureClass.ASSERTION_FAILED, reason)
        assert step.into is not None
        self.values[step.into] = text

    def _take_screenshot(self, step: Step, index: int, deadline: float) -> None:
        try:
            data = self.page.screenshot(
                type="png", timeout=self._left_ms(deadline), mask=self.secret_fields
            )
        except PlaywrightTimeoutError:
            raise self._timeout(step) from None
        caption = self.redactor.text(step.description or summary(step))
        self.record.shots.append(Shot(data, index, caption))
