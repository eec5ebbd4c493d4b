"""One transaction run as its result page shows it: steps on a waterfall, what went wrong, the
files kept (screenshots, trace), read from a result's details (the contract of issue 12).

Details come from a check that may have died half-way, or from an older version: every part
is read defensively, a missing or malformed part reads as empty, never as an error page.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.utils.formats import number_format
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from monitoring.browser.artifacts import file_of
from monitoring.models import ArtifactKind, BrowserArtifact, CheckResult
from sitecare.lib.messages import NESTED, decode

# The waterfall's drawing width (an SVG viewBox; the page stretches it to the column).
BAR_WIDTH = 1000
BAR_HEIGHT = 14
MIN_BAR = 3  # a 0 ms step still shows as a sliver
OK_COLOUR = "#2563eb"
FAILED_COLOUR = "#dc2626"
MAX_LISTED = 50  # console errors, failed requests…: the first ones tell the story


@dataclass(frozen=True)
class Artifact:
    """A kept file, and whether it is still there to show or download."""

    id: str
    kind: str
    step: int | None
    caption: str
    size: int
    available: bool


@dataclass
class StepRow:
    index: int
    action: str
    summary: str
    description: str
    ok: bool
    start_ms: float
    ms: float
    error: str
    failed: bool = False
    bar: str = ""  # the SafeString of step_bar
    screenshots: list[Artifact] = field(default_factory=list)

    @property
    def number(self) -> int:
        """As people count steps (the first is step 1)."""
        return self.index + 1


@dataclass
class TransactionRun:
    steps: list[StepRow]
    failed_step: StepRow | None
    total_ms: float
    device: str
    browser: str
    console_errors: list[str]
    page_errors: list[str]
    failed_requests: list[dict[str, str]]
    blocked_requests: list[dict[str, str]]
    trace: Artifact | None
    failure_screenshots: list[Artifact]
    screenshots: list[Artifact]


def _number(value: Any) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def _text(value: Any, limit: int = 2000) -> str:
    return str(value)[:limit] if isinstance(value, str | int | float) else ""


def _dicts(value: Any) -> list[Mapping[str, Any]]:
    items = value if isinstance(value, list) else []
    return [item for item in items if isinstance(item, Mapping)][:MAX_LISTED]


def _step(item: Mapping[str, Any], position: int) -> StepRow:
    index = item.get("index")
    return StepRow(
        index=index if isinstance(index, int) and not isinstance(index, bool) else position,
        action=_text(item.get("action"), 40),
        summary=_text(item.get("summary"), 300),
        description=_text(item.get("description"), 200),
        ok=item.get("ok") is True,
        start_ms=max(_number(item.get("start_ms")), 0.0),
        ms=max(_number(item.get("ms")), 0.0),
        error=_text(item.get("error"), 1000),
    )


def step_bar(row: StepRow, total_ms: float) -> SafeString:
    """One step's bar on the run's time axis: an SVG of presentation attributes only (the
    strict CSP forbids style attributes), its times also said in words for screen readers."""
    scale = BAR_WIDTH / total_ms if total_ms > 0 else 0.0
    x = min(row.start_ms * scale, BAR_WIDTH - MIN_BAR)
    width = max(row.ms * scale, MIN_BAR)
    width = min(width, BAR_WIDTH - x)
    colour = FAILED_COLOUR if row.failed else OK_COLOUR
    words = _("starts at %(start)s ms, takes %(ms)s ms") % {
        "start": number_format(round(row.start_ms), force_grouping=True),
        "ms": number_format(round(row.ms), force_grouping=True),
    }
    if not (row.ok or row.failed):  # never ran: the track alone
        return format_html(
            '<svg class="waterfall__bar" viewBox="0 0 {} {}" preserveAspectRatio="none" '
            'aria-hidden="true"><rect x="0" y="0" width="{}" height="{}" fill="#eef0f3"/></svg>',
            BAR_WIDTH,
            BAR_HEIGHT,
            BAR_WIDTH,
            BAR_HEIGHT,
        )
    return format_html(
        '<svg class="waterfall__bar" viewBox="0 0 {} {}" preserveAspectRatio="none" '
        'role="img" aria-label="{}"><rect x="0" y="0" width="{}" height="{}" fill="#eef0f3"/>'
        '<rect x="{}" y="0" width="{}" height="{}" fill="{}"/></svg>',
        BAR_WIDTH,
        BAR_HEIGHT,
        words,
        BAR_WIDTH,
        BAR_HEIGHT,
        f"{x:.1f}",
        f"{width:.1f}",
        BAR_HEIGHT,
        colour,
    )


def artifacts_of(result: CheckResult, rows: Iterable[BrowserArtifact]) -> list[Artifact]:
    """The result's files: those its details name, else those kept at its very moment."""
    details = result.details if isinstance(result.details, Mapping) else {}
    named = {_text(item.get("id"), 64) for item in _dicts(details.get("artifacts"))}
    found = [row for row in rows if str(row.id) in named or row.checked_at == result.checked_at]
    return [
        Artifact(
            id=str(row.id),
            kind=row.kind,
            step=row.step,
            caption=row.caption,
            size=row.size,
            available=file_of(row) is not None,
        )
        for row in sorted(found, key=lambda a: (a.step if a.step is not None else -1, a.created_at))
    ]


def _failure_reason(result: CheckResult) -> str:
    """Why the failing step failed, in the reader's language: the step's own ``error`` is
    the runner's English text, the result's message keeps the reason as a message."""
    args = result.message_args if isinstance(result.message_args, Mapping) else {}
    reason = args.get("reason")
    if not isinstance(reason, Mapping) or NESTED not in reason:
        return ""
    return _text(decode(reason), 1000)


def transaction_run(result: CheckResult, artifacts: list[Artifact]) -> TransactionRun:
    """Read one result's details into what its page shows.

    1. Steps in order, each with its bar on the run's time axis (the end of the last step).
    2. The failing step: the details' ``failed_step`` index, marked on its row.
    3. Screenshots by step: a failing step's are "what the page showed", the others belong to
       ``screenshot`` steps; the trace is the one file to download.
    """
    details = result.details if isinstance(result.details, Mapping) else {}
    steps = [_step(item, position) for position, item in enumerate(_dicts(details.get("steps")))]
    total = max((row.start_ms + row.ms for row in steps), default=0.0)
    failed_index = details.get("failed_step")
    failed = next((row for row in steps if row.index == failed_index), None)
    if failed is not None:
        failed.failed = True
        failed.error = _failure_reason(result) or failed.error
    screenshots = [a for a in artifacts if a.kind == ArtifactKind.SCREENSHOT]
    for row in steps:
        row.bar = step_bar(row, total)
        row.screenshots = [a for a in screenshots if a.step == row.index]
    failure_shots = [a for a in screenshots if failed is not None and a.step == failed.index]
    return TransactionRun(
        steps=steps,
        failed_step=failed,
        total_ms=total,
        device=_text(details.get("device"), 20),
        browser=_text(details.get("browser"), 40),
        console_errors=[_text(e.get("text")) for e in _dicts(details.get("console_errors"))],
        page_errors=[_text(e.get("message")) for e in _dicts(details.get("page_errors"))],
        failed_requests=[
            {"url": _text(e.get("url")), "error": _text(e.get("error"), 300)}
            for e in _dicts(details.get("failed_requests"))
        ],
        blocked_requests=[
            {
                "url": _text(e.get("url")),
                "host": _text(e.get("host"), 300),
                "reason": _text(e.get("reason"), 40),
            }
            for e in _dicts(details.get("blocked_requests"))
        ],
        trace=next((a for a in artifacts if a.kind == ArtifactKind.TRACE), None),
        failure_screenshots=failure_shots,
        screenshots=[a for a in screenshots if a not in failure_shots],
    )
