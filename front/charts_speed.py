"""Server-rendered SVG trend charts of the speed page: one figure over 90 days, a line per
environment, the budget as a red dashed line.

Pure functions from points to an SVG string, like ``front.charts`` (whose frame sizes and
colours they share). Figures of different environments (``monitoring.browser.calibration``)
are separate series: never joined into one line. Every piece of text is escaped here.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from html import escape

from django.utils.formats import date_format
from django.utils.safestring import SafeString, mark_safe

from front.charts import (
    BOTTOM,
    FAIL,
    GRID,
    HEIGHT,
    LEFT,
    RIGHT,
    TEXT,
    TOP,
    WIDTH,
    nice_ceiling,
    text_width,
    variant,
)

# A colour and a dash pattern per series (told apart without colour too); the first
# environment gets the page's usual blue.
SERIES_STYLES: tuple[tuple[str, str], ...] = (
    ("#2563eb", ""),
    ("#7c3aed", "6 3"),
    ("#0f766e", "2 3"),
    ("#c2410c", "8 3 2 3"),
    ("#4b5563", "1 2"),
)


def series_style(index: int) -> tuple[str, str]:
    """The colour and dash pattern of the ``index``-th series (the same on every chart)."""
    return SERIES_STYLES[index % len(SERIES_STYLES)]


@dataclass(frozen=True)
class Series:
    """One environment's line: a value per day (the day's median), oldest first."""

    key: str
    points: tuple[tuple[datetime, float], ...]
    style: int = 0  # index into SERIES_STYLES


def daily_medians(
    measurements: Sequence[tuple[datetime, float | None]], tz: tzinfo
) -> tuple[tuple[datetime, float], ...]:
    """The median value of each local day, placed at the day's noon, oldest first.

    A day with no value (nothing measured, or every measurement lacking the figure) has no
    point: the line breaks there rather than inventing a figure.
    """
    days: dict[date, list[float]] = {}
    for moment, value in measurements:
        if value is not None:
            days.setdefault(moment.astimezone(tz).date(), []).append(value)
    return tuple(
        (datetime.combine(day, time(12), tzinfo=tz), statistics.median(values))
        for day, values in sorted(days.items())
    )


@dataclass(frozen=True)
class _Frame:
    start: datetime
    end: datetime
    top: float
    width: int
    left: float

    def x(self, moment: datetime) -> float:
        span = (self.end - self.start).total_seconds() or 1.0
        fraction = min(max((moment - self.start).total_seconds() / span, 0.0), 1.0)
        return self.left + fraction * (self.width - self.left - RIGHT)

    def y(self, value: float) -> float:
        fraction = min(max(value, 0.0), self.top) / self.top
        return HEIGHT - BOTTOM - fraction * (HEIGHT - TOP - BOTTOM)


def _text(x: float, y: float, label: str, anchor: str = "middle", fill: str = TEXT) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="11" '
        f'fill="{fill}">{escape(label)}</text>'
    )


def _value_axis(frame: _Frame, labels: Sequence[str]) -> list[str]:
    parts = []
    for i, label in enumerate(labels):
        y = frame.y(frame.top * i / 4)
        parts.append(
            f'<line x1="{frame.left:.1f}" x2="{frame.width - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="{GRID}" stroke-width="1"/>'
        )
        parts.append(_text(frame.left - 6, y + 4, label, "end"))
    return parts


def _day_axis(frame: _Frame, tz: tzinfo) -> list[str]:
    """A date label every few days, as many as fit (about six wide, three narrow)."""
    first = frame.start.astimezone(tz).date() + timedelta(days=1)
    last = frame.end.astimezone(tz).date()
    total = max((last - first).days, 1)
    every = max(1, -(-total // (6 if frame.width >= WIDTH else 3)))
    parts = []
    day = first
    while day <= last:
        label = date_format(day, "MONTH_DAY_FORMAT")
        x = frame.x(datetime.combine(day, time(0), tzinfo=tz))
        half = text_width(label) / 2
        if (last - day).days % every == 0 and frame.left + half <= x <= frame.width - half:
            parts.append(_text(x, HEIGHT - 8, label))
        day += timedelta(days=1)
    return parts


def _line(frame: _Frame, series: Series) -> list[str]:
    colour, dash = series_style(series.style)
    if not series.points:
        return []
    coords = [(frame.x(at), frame.y(value)) for at, value in series.points]
    dashes = f' stroke-dasharray="{dash}"' if dash else ""
    key = escape(series.key)
    dots = "".join(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2" fill="{colour}"/>' for x, y in coords)
    if len(coords) == 1:
        return [f'<g class="speed-series" data-environment="{key}">{dots}</g>']
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
    return [
        f'<g class="speed-series" data-environment="{key}">'
        f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="1.75" '
        f'stroke-linejoin="round"{dashes}/>{dots}</g>'
    ]


def trend_svg(
    series: Sequence[Series],
    *,
    start: datetime,
    end: datetime,
    tz: tzinfo,
    budget: float | None,
    axis: Callable[[float, float], str],
    title: str,
    budget_label: str,
    empty_text: str,
    width: int = WIDTH,
    whole: bool = False,
) -> SafeString:
    """A figure's daily medians over ``[start, end)``: a line per series, the budget in red.

    ``axis(value, top)`` labels a value of an axis that reaches ``top``; the axis runs from 0
    to a round value above the highest point and the budget (``whole``: a value with whole
    quarters, for counts).
    """
    values = [value for line in series for _at, value in line.points]
    highest = max([*values, budget * 1.1 if budget is not None else 0.0], default=0.0)
    top = nice_ceiling(highest) if highest > 0 else 1.0
    if whole:
        # A count (requests) has whole ticks: 0-4 for 2 requests, not "0.5" and "1.5".
        top = 4.0 * max(math.ceil(nice_ceiling(highest / 4)) if highest > 0 else 1, 1)
    labels = [axis(top * i / 4, top) for i in range(5)]
    left = max(LEFT, max(text_width(label) for label in labels) + 10)
    frame = _Frame(start, end, top, width, left)
    body = [*_value_axis(frame, labels), *_day_axis(frame, tz)]
    for line in series:
        body.extend(_line(frame, line))
    if budget is not None:
        y = frame.y(budget)
        body.append(
            f'<line class="speed-budget" x1="{left:.1f}" x2="{width - RIGHT}" y1="{y:.1f}" '
            f'y2="{y:.1f}" stroke="{FAIL}" stroke-width="1.5" stroke-dasharray="5 4"/>'
        )
        body.append(_text(width - RIGHT - 2, max(y - 4, TOP + 9), budget_label, "end", FAIL))
    if not values:
        body.append(
            _text((left + width - RIGHT) / 2, (TOP + HEIGHT - BOTTOM) / 2, empty_text).replace(
                'font-size="11"', 'font-size="13"'
            )
        )
    # Safe to mark: every text and attribute value above went through escape().
    return mark_safe(  # noqa: S308
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart chart--speed {variant(width)}" '
        f'viewBox="0 0 {width} {HEIGHT}" role="img" aria-label="{escape(title)}" '
        f'font-family="system-ui, sans-serif"><title>{escape(title)}</title>{"".join(body)}</svg>'
    )


def legend_swatch(index: int) -> SafeString:
    """A short sample of a series' line, for the page's legend (presentation attributes only,
    so the page's style policy allows it)."""
    colour, dash = series_style(index)
    dashes = f' stroke-dasharray="{dash}"' if dash else ""
    return mark_safe(  # noqa: S308 - built from constants only
        f'<svg class="legend__swatch" width="28" height="8" viewBox="0 0 28 8" aria-hidden="true">'
        f'<line x1="1" x2="27" y1="4" y2="4" stroke="{colour}" stroke-width="2"{dashes}/></svg>'
    )
