"""What the speed page shows of a speed monitor: the latest medians against the budgets, the
heaviest resources and the 90-day trend of each figure, a series per environment."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Any

from django.utils.formats import number_format
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from pydantic import ValidationError

from front.charts import NARROW, WIDTH, axis_number
from front.charts_speed import Series, daily_medians, legend_swatch, trend_svg
from front.formatting import response_time
from monitoring.browser.calibration import reference_score
from monitoring.checks import speed
from monitoring.models import Monitor, SpeedMeasurement, SpeedProfile

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

TREND_DAYS = speed.TREND_DAYS


def _ms_axis(value: float, top: float) -> str:
    """Milliseconds on an axis: seconds once the axis reaches 2 s (1.25 s, not 1.2 s)."""
    if top >= 2000:
        return _("%(value)s s") % {"value": axis_number(value / 1000)}
    return _("%(value)s ms") % {"value": axis_number(value)}


def _bytes_axis(value: float, top: float) -> str:
    """Bytes on an axis in round decimal units (125 kB, 1.5 MB)."""
    if top >= 2_000_000:
        return _("%(value)s MB") % {"value": axis_number(value / 1_000_000)}
    if top >= 2_000:
        return _("%(value)s kB") % {"value": axis_number(value / 1_000)}
    return axis_number(value)


def _plain_axis(value: float, top: float) -> str:
    return axis_number(value)


def _cls(value: float) -> str:
    return number_format(round(value, 3), 3)


def _count(value: float) -> str:
    return number_format(round(value), 0)


def _size(value: float) -> str:
    """Bytes in the decimal units the charts' axes use (9.9 kB, 1.5 MB): binary ones beside
    them ("9.7 KB" above an axis of "10 kB") read as two different figures."""
    if value >= 1_000_000:
        return _("%(value)s MB") % {"value": number_format(round(value / 1_000_000, 1), 1)}
    if value >= 1_000:
        return _("%(value)s kB") % {"value": number_format(round(value / 1_000, 1), 1)}
    return _("%(value)s B") % {"value": number_format(round(value), 0)}


@dataclass(frozen=True)
class Figure:
    """One figure as the page names and formats it."""

    key: str
    name: StrOrPromise
    shown: Callable[[float], str]
    axis: Callable[[float, float], str]


FIGURES: tuple[Figure, ...] = (
    Figure("lcp_ms", gettext_lazy("Largest Contentful Paint (LCP)"), response_time, _ms_axis),
    Figure("cls", gettext_lazy("Cumulative Layout Shift (CLS)"), _cls, _plain_axis),
    Figure("tbt_ms", gettext_lazy("Total Blocking Time (TBT)"), response_time, _ms_axis),
    Figure("fcp_ms", gettext_lazy("First Contentful Paint (FCP)"), response_time, _ms_axis),
    Figure("ttfb_ms", gettext_lazy("Time to First Byte (TTFB)"), response_time, _ms_axis),
    Figure("bytes", gettext_lazy("Page weight"), _size, _bytes_axis),
    Figure("requests", gettext_lazy("Requests"), _count, _plain_axis),
)

# Chromium's resource types (the DevTools protocol's names) as the page shows them.
RESOURCE_TYPES: dict[str, StrOrPromise] = {
    "Document": gettext_lazy("page"),
    "Stylesheet": gettext_lazy("stylesheet"),
    "Image": gettext_lazy("image"),
    "Media": gettext_lazy("media"),
    "Font": gettext_lazy("font"),
    "Script": gettext_lazy("script"),
    "XHR": gettext_lazy("XHR"),
    "Fetch": gettext_lazy("fetch"),
    "Other": gettext_lazy("other"),
}


def budgets_of(monitor: Monitor) -> dict[str, float | int]:
    """The monitor's budgets as configured now (none if its options no longer validate)."""
    try:
        return speed.Options.model_validate(dict(monitor.config or {})).budgets.as_dict()
    except ValidationError:
        return {}


def environment_label(key: str) -> str:
    """``mobile/chromium-150/cpu-2208`` in words: "Mobile · Chromium 150 · CPU score 2208"."""
    profile, _sep, rest = key.partition("/")
    browser = rest.partition("/")[0].removeprefix("chromium-")
    score = reference_score(key)
    profile_label = dict(SpeedProfile.choices).get(profile, profile)
    return _("%(profile)s · Chromium %(version)s · CPU score %(score)s") % {
        "profile": profile_label,
        "version": browser or "?",
        "score": number_format(round(score), 0) if score is not None else "?",
    }


@dataclass(frozen=True)
class FigureRow:
    """A line of the latest measurement's table."""

    name: StrOrPromise
    value: str
    budget: str
    over: bool | None  # None: no budget


def latest_rows(latest: SpeedMeasurement, budgets: dict[str, float | int]) -> list[FigureRow]:
    """Each figure of the latest measurement beside its budget."""
    rows = []
    for figure in FIGURES:
        value = getattr(latest, figure.key)
        budget = budgets.get(figure.key)
        over = None if budget is None else (value is None or value > budget)
        rows.append(
            FigureRow(
                name=figure.name,
                value="—" if value is None else figure.shown(value),
                budget="—" if budget is None else figure.shown(budget),
                over=over,
            )
        )
    return rows


def resource_rows(latest: SpeedMeasurement) -> list[dict[str, Any]]:
    """The heaviest resources of the latest measurement, sizes and types in words."""
    rows = []
    for item in latest.heaviest or []:
        if not isinstance(item, dict):
            continue
        kind = str(item.get("type", ""))
        rows.append(
            {
                "url": str(item.get("url", "")),
                "size": _size(float(item.get("bytes") or 0)),
                "type": RESOURCE_TYPES.get(kind, kind),
            }
        )
    return rows


@dataclass(frozen=True)
class Chart:
    """One figure's trend chart (both widths) with its caption."""

    figure: Figure
    svg: SafeString


def trend_charts(
    rows: Sequence[dict[str, Any]],
    environments: Sequence[str],
    budgets: dict[str, float | int],
    *,
    start: datetime,
    end: datetime,
    tz: tzinfo,
) -> list[Chart]:
    """A chart per figure: a line per environment (in ``environments``' order), the budget."""
    charts = []
    for figure in FIGURES:
        series = [
            Series(
                key=environment,
                points=daily_medians(
                    [
                        (r["measured_at"], r[figure.key])
                        for r in rows
                        if r["environment"] == environment
                    ],
                    tz,
                ),
                style=index,
            )
            for index, environment in enumerate(environments)
        ]
        budget = budgets.get(figure.key)
        drawings = [
            trend_svg(
                series,
                start=start,
                end=end,
                tz=tz,
                budget=float(budget) if budget is not None else None,
                axis=figure.axis,
                title=str(figure.name),
                budget_label=_("budget %(value)s") % {"value": figure.shown(budget)}
                if budget is not None
                else "",
                empty_text=_("No measurements in this period."),
                width=width,
                whole=figure.key == "requests",
            )
            for width in (WIDTH, NARROW)
        ]
        charts.append(Chart(figure, SafeString("".join(drawings))))
    return charts


def speed_context(
    monitor: Monitor, measurements: Any, *, now: datetime, tz: tzinfo
) -> dict[str, Any]:
    """The speed page's figures for a monitor, from its (already scoped) measurements."""
    start = now - timedelta(days=TREND_DAYS)
    budgets = budgets_of(monitor)
    fields = ["measured_at", "environment", *(figure.key for figure in FIGURES)]
    rows = list(measurements.filter(measured_at__gte=start).order_by("measured_at").values(*fields))
    environments = list(dict.fromkeys(row["environment"] for row in rows))
    latest = measurements.order_by("-measured_at").first()
    return {
        "latest": latest,
        "latest_rows": latest_rows(latest, budgets) if latest else [],
        "latest_environment": environment_label(latest.environment) if latest else "",
        "resources": resource_rows(latest) if latest else [],
        "environments": [
            {"label": environment_label(key), "swatch": legend_swatch(index), "key": key}
            for index, key in enumerate(environments)
        ],
        "charts": trend_charts(rows, environments, budgets, start=start, end=now, tz=tz),
        "budgets": budgets,
        "trend_days": TREND_DAYS,
    }
