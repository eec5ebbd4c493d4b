"""The actions of transaction steps on a page: find the element, act, judge, within the step's
time. Each failure is a ``StepFailed`` with its class and reason (``transaction_run`` orders
them against what the page did meanwhile)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Locator, Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from monitoring.browser.redact import Redactor
from monitoring.browser.steps import REFERENCE, Step, element_summary, substitute, summary
from monitoring.failures import FailureClass
from sitecare.lib.messages import Message
from sitecare.lib.messages import deferred as _

if TYPE_CHECKING:
    from monitoring.checks.transaction import Options

REDIRECTS = frozenset({301, 302, 303, 307, 308})
SCREENSHOT_TIMEOUT_MS = 5_000


# What covers a field a secret was typed into on every screenshot: a quiet slate, not
# Playwright's default magenta, since clients see these pictures.
SECRET_MASK_COLOUR = "#475569"


class StepFailed(Exception):
    """A step did not do what it says; the class and reason of the result."""

    def __init__(self, failure_class: str, reason: Message) -> None:
        super().__init__(reason)
        self.failure_class = failure_class
        self.reason = reason


@dataclass
class Shot:
    """A screenshot to keep: a ``screenshot`` step's, or the page at the failing step."""

    data: bytes
    step: int
    caption: str


def glob_regex(pattern: str) -> re.Pattern[str]:
    """Playwright's URL glob: ``**`` any text, ``*`` any text without ``/``."""
    parts = re.split(r"(\*\*|\*)", pattern)
    table = {"**": ".*", "*": "[^/]*"}
    return re.compile("^" + "".join(table.get(p, re.escape(p)) for p in parts) + "$")


_GLOB_PARTS = re.compile(r"\*\*|\*|[^*]+")


def glob_matches(pattern: str, url: str) -> bool:
    """Whether ``url`` matches Playwright's URL glob (as :func:`glob_regex`), without
    backtracking: the regex of ``**a**a**a**b`` takes hours on a URL of 200 ``a``, holding the
    interpreter (this runs in Python: the worker, or the web server for a trial).

    1. Keep the set of places in the URL where the pattern read so far can end.
    2. Text moves each place that shows it past it; ``*`` spreads each place up to the next
       ``/``; ``**`` spreads the first place to the end of the URL.
    """
    places = {0}
    end = len(url)
    for part in _GLOB_PARTS.findall(pattern):
        if not places:
            return False
        if part == "**":
            places = set(range(min(places), end + 1))
        elif part == "*":
            spread: set[int] = set()
            for start in sorted(places):
                if start not in spread:
                    slash = url.find("/", start)
                    spread.update(range(start, end + 1 if slash < 0 else slash + 1))
            places = spread
        else:
            places = {place + len(part) for place in places if url.startswith(part, place)}
    return end in places


def seconds_shown(value: float) -> float | int:
    return int(value) if float(value).is_integer() else round(value, 1)


class StepActions:
    """The actions, on ``page``; ``TransactionRun`` adds the run around them."""

    page: Page
    options: Options
    start_url: str
    values: dict[str, str]
    redactor: Redactor
    # Fields a secret was typed into: masked in every screenshot.
    secret_fields: list[Locator]
    shots: list[Shot]
    typed_secret: bool
    # The main frame's document responses (status, url).
    responses: list[tuple[int, str]]

    def _reason(self, template: Message, **args: Any) -> Message:
        """A reason as data (``template`` is ``_("…")``), its text arguments scrubbed of secrets."""
        clean = {k: self.redactor.text(v) if isinstance(v, str) else v for k, v in args.items()}
        message: Message = template % clean if clean else template
        return message

    def final_status(self) -> int | None:
        """The status of the last main document that was not a redirect."""
        final = [status for status, _url in self.responses if status not in REDIRECTS]
        return final[-1] if final else None

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
        seconds = seconds_shown(self.options.timeout_of(step))
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
        seconds = seconds_shown(self.options.timeout_of(step))
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
            seconds = seconds_shown(self.options.timeout_of(step))
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
            self.typed_secret = True
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
                self.page.wait_for_url(
                    lambda url: glob_matches(pattern, url), timeout=self._left_ms(deadline)
                )
            except PlaywrightTimeoutError:
                reason = self._reason(
                    _("the address did not become %(pattern)s in %(seconds)s s (it is %(url)s)"),
                    pattern=pattern,
                    seconds=seconds_shown(self.options.timeout_of(step)),
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
                type="png",
                timeout=self._left_ms(deadline),
                mask=self.secret_fields,
                mask_color=SECRET_MASK_COLOUR,
            )
        except PlaywrightTimeoutError:
            raise self._timeout(step) from None
        caption = self.redactor.text(step.description or summary(step))
        self.shots.append(Shot(data, index, caption))
