"""Page speed check: Web Vitals of a page in a real browser, the median of N loads, against
budgets.

1. Each load runs in its own fresh browser session (``monitoring.browser.session``), throttled
   for the profile; ``monitoring.browser.vitals`` measures it (the run itself is
   ``monitoring.browser.speed_check``, which loads Playwright: only the processes that run
   browser checks import it).
2. The median of each figure across the loads counts (one slow load among three does not).
3. A median over its budget fails the check (``BUDGET_EXCEEDED``, naming the figures); the
   usual confirmation (``confirm_down`` such checks in a row) opens a minor incident.
4. The medians, the environment they ran in and the heaviest resources go into the result's
   details and, through :func:`record_extra`, into a ``SpeedMeasurement`` kept for the trends.

Budgets have no defaults: a speed monitor without budgets records its trends and fails only
when the page does not load. The Core Web Vitals "good" thresholds (LCP 2,500 ms, CLS 0.1,
from Google's field data at the 75th percentile) are the usual starting point; the lab's
throttled mobile profile is harsher than most visitors' phones, so set budgets from a few
days of the page's own trend.
"""

from __future__ import annotations

import logging
import statistics
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Literal

from django.db import transaction
from django.utils.translation import gettext_lazy, gettext_noop
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from monitoring.browser import calibration
from monitoring.browser.vitals import (
    QUIET_CAP_S,
    LoadFigures,
)
from monitoring.checks.browser_kind import (
    block_hosts_field,
    host_patterns,
    normalize_target,
    target_host,
)
from monitoring.engine.target import CheckTarget
from monitoring.failures import FailureClass
from monitoring.logic import Outcome
from monitoring.models import SpeedMeasurement
from sitecare.lib.messages import Message, joined
from sitecare.lib.messages import deferred as _

__all__ = ["Options", "normalize_target", "record_extra", "target_host", "time_limit"]

logger = logging.getLogger(__name__)

# The figures, in the order they are judged and shown.
FIGURES = ("lcp_ms", "cls", "tbt_ms", "fcp_ms", "ttfb_ms", "bytes", "requests")
INTEGER_FIGURES = frozenset({"bytes", "requests"})
# A session's hard limit beyond the page's own timeout: opening it, the quiet wait, slack.
SESSION_SLACK_S = QUIET_CAP_S + 20.0
TREND_DAYS = 90  # the trend charts' period (an environment unseen this long is forgotten)


class Budgets(BaseModel):
    """The most each median figure may be (none set: that figure is only recorded)."""

    model_config = ConfigDict(extra="forbid")

    lcp_ms: int | None = Field(
        default=None,
        ge=1,
        le=120_000,
        description=gettext_noop("Largest Contentful Paint; Google's “good” is up to 2500"),
    )
    cls: float | None = Field(
        default=None,
        ge=0,
        le=100,
        description=gettext_noop("Cumulative Layout Shift; Google's “good” is up to 0.1"),
    )
    tbt_ms: int | None = Field(
        default=None,
        ge=0,
        le=120_000,
        description=gettext_noop("Total Blocking Time; Lighthouse's “good” is up to 200"),
    )
    fcp_ms: int | None = Field(
        default=None,
        ge=1,
        le=120_000,
        description=gettext_noop("First Contentful Paint; Google's “good” is up to 1800"),
    )
    ttfb_ms: int | None = Field(
        default=None,
        ge=1,
        le=120_000,
        description=gettext_noop("Time to First Byte; Google's “good” is up to 800"),
    )
    bytes: int | None = Field(
        default=None,
        ge=1,
        le=10_000_000_000,
        description=gettext_noop("bytes transferred by the whole page"),
    )
    requests: int | None = Field(
        default=None, ge=1, le=100_000, description=gettext_noop("requests the page makes")
    )

    def as_dict(self) -> dict[str, float | int]:
        """The budgets that are set."""
        return {key: value for key, value in self.model_dump().items() if value is not None}


class Options(BaseModel):
    """Kind-specific settings of a page speed monitor."""

    model_config = ConfigDict(extra="forbid")

    profile: Literal["mobile", "desktop"] = Field(
        default="mobile",
        description=gettext_noop(
            "mobile: 390 px, CPU slowed 4×, a slow 4G network; desktop: 1366 px, a fast network"
        ),
    )
    runs: int = Field(
        default=3,
        ge=1,
        le=5,
        description=gettext_noop("1 to 5; the median of each figure across the loads counts"),
    )
    budgets: Budgets = Field(default_factory=Budgets)
    block_hosts: list[str] = block_hosts_field()

    @field_validator("block_hosts")
    @classmethod
    def _host_patterns(cls, values: list[str]) -> list[str]:
        return host_patterns(values)


# --- judging the figures (pure) ------------------------------------------------------------


def median_figures(loads: Sequence[dict[str, float | int | None]]) -> dict[str, float | None]:
    """The median of each figure across the loads (loads that lack a figure left out)."""
    medians: dict[str, float | None] = {}
    for key in FIGURES:
        values = [float(v) for load in loads if (v := load.get(key)) is not None]
        if not values:
            medians[key] = None
            continue
        middle = statistics.median(values)
        medians[key] = round(middle) if key in INTEGER_FIGURES else round(middle, 4)
    return medians


def broken_budgets(medians: dict[str, float | None], budgets: dict[str, float | int]) -> list[str]:
    """The figures whose median is over their budget, in ``FIGURES`` order.

    A budgeted figure the loads never produced (no LCP: nothing was painted) counts as broken:
    a blank page must not pass its budget.
    """
    broken = []
    for key in FIGURES:
        if key not in budgets:
            continue
        value = medians.get(key)
        if value is None or value > budgets[key]:
            broken.append(key)
    return broken


# How each figure reads in a message: its name (a lazy label where words are needed) and unit.
FIGURE_WORDS: dict[str, tuple[Any, str]] = {
    "lcp_ms": ("LCP", " ms"),
    "cls": ("CLS", ""),
    "tbt_ms": ("TBT", " ms"),
    "fcp_ms": ("FCP", " ms"),
    "ttfb_ms": ("TTFB", " ms"),
    "bytes": (gettext_lazy("page weight"), " B"),
    "requests": (gettext_lazy("requests"), ""),
}


def shown_value(key: str, value: float | int) -> float | int:
    """A figure as a message shows it: whole milliseconds and bytes, CLS to 3 places."""
    return round(float(value), 3) if key == "cls" else round(value)


def budget_message(
    medians: dict[str, float | None], budgets: dict[str, float | int], broken: Sequence[str]
) -> Message:
    """ "Page speed over budget: LCP 3200 ms (budget 2500 ms), CLS 0.15 (budget 0.1)" as data."""
    parts: list[Message] = []
    for key in broken:
        figure, unit = FIGURE_WORDS[key]
        value = medians.get(key)
        words = {"figure": figure, "unit": unit, "budget": shown_value(key, budgets[key])}
        if value is None:
            parts.append(_("%(figure)s not measured (budget %(budget)s%(unit)s)") % words)
        else:
            words["value"] = shown_value(key, value)
            parts.append(_("%(figure)s %(value)s%(unit)s (budget %(budget)s%(unit)s)") % words)
    return _("Page speed over budget: %(figures)s.") % {"figures": joined(parts, ", ")}


def median_run(loads: Sequence[LoadFigures]) -> LoadFigures:
    """The load whose LCP is the median one (its resources stand for the check's)."""
    ranked = sorted(loads, key=lambda load: load.lcp_ms if load.lcp_ms is not None else 1e12)
    return ranked[(len(ranked) - 1) // 2]


# --- running the check ---------------------------------------------------------------------


def time_limit(config: Mapping[str, Any], timeout_s: float) -> float:
    """The longest one check may take: each load's session limit, for every run."""
    try:
        runs = Options.model_validate(dict(config)).runs
    except ValidationError:
        runs = 1
    return runs * (timeout_s + SESSION_SLACK_S)


def judged(
    target: CheckTarget,
    now: datetime,
    options: Options,
    loads: Sequence[LoadFigures],
    browser_version: str,
    known: Sequence[str] = (),
) -> Outcome:
    """The check's outcome from its loads: medians, environment (``known``: the environment
    keys seen lately, see ``calibration.environment_key``), budgets."""
    medians = median_figures([load.figures() for load in loads])
    budgets = options.budgets.as_dict()
    broken = broken_budgets(medians, budgets)
    score = calibration.cpu_score()
    details = {
        "profile": options.profile,
        "runs": len(loads),
        "median": medians,
        "budgets": budgets,
        "broken": broken,
        "heaviest": median_run(loads).resources,
        "environment": {
            "browser": browser_version,
            "cpu_score": score,
            "key": calibration.environment_key(options.profile, browser_version, score, known),
        },
    }
    return Outcome(
        target.monitor_id,
        now,
        ok=not broken,
        status_code=loads[-1].status,
        # The monitor's response-time chart shows the page's LCP.
        response_ms=medians["lcp_ms"],
        ttfb_ms=medians["ttfb_ms"],
        failure_class=FailureClass.BUDGET_EXCEEDED if broken else FailureClass.NONE,
        message=budget_message(medians, budgets, broken) if broken else "",
        details=details,
    )


def known_environments(profile: str, now: datetime) -> list[str]:
    """The environment keys of the profile's measurements in the charts' period."""
    since = now - timedelta(days=TREND_DAYS)
    rows = SpeedMeasurement.objects.filter(profile=profile, measured_at__gte=since)
    return list(rows.values_list("environment", flat=True).distinct())


# --- keeping the figures -------------------------------------------------------------------


def record_extra(outcome: Outcome) -> None:
    """Keep a measured check's medians as a ``SpeedMeasurement`` (once per monitor and moment).

    Called by the job layer inside the transaction that records the result; a check whose page
    did not load measured nothing and keeps nothing. A second call for the same check (a job
    retried after its lease) finds the row and leaves it.
    """
    details = outcome.details or {}
    medians = details.get("median")
    environment = details.get("environment")
    if not isinstance(medians, dict) or not isinstance(environment, dict):
        return
    with transaction.atomic():
        SpeedMeasurement.objects.get_or_create(
            monitor_id=outcome.monitor_id,
            measured_at=outcome.checked_at,
            defaults={
                "environment": str(environment.get("key", ""))[:100],
                "browser_version": str(environment.get("browser", ""))[:40],
                "cpu_score": float(environment.get("cpu_score") or 0.0),
                "profile": str(details.get("profile", "mobile")),
                "runs": int(details.get("runs") or 1),
                **{key: medians.get(key) for key in FIGURES},
                "heaviest": list(details.get("heaviest") or []),
                "broken": list(details.get("broken") or []),
            },
        )
