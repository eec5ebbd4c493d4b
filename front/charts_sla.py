"""Server-rendered SVG charts of the SLA page: the error-budget burn and the monthly history.

Pure functions from figures to an SVG string, like ``front.charts`` (whose frame sizes and
colours they share). Every piece of text is escaped here: titles carry a client's name.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from html import escape

from django.utils.formats import date_format, number_format
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from front.charts import (
    BOTTOM,
    FAIL,
    GRID,
    HEIGHT,
    LEFT,
    LINE,
    RIGHT,
    TEXT,
    WIDTH,
    text_width,
    variant,
)
from front.formatting import human_duration

TOP = 30  # room above the plot for the legend
LEGEND_Y = 14
OK = "#16a34a"
PACE = "#6b7280"
# Axis tops in seconds, each with four even steps that read well as durations.
NICE_TOPS = (
    20, 40, 120, 240, 480, 1200, 2400, 3600, 7200, 4 * 3600, 8 * 3600, 12 * 3600,
    86_400, 2 * 86_400, 4 * 86_400, 8 * 86_400, 20 * 86_400, 40 * 86_400, 100 * 86_400,
)  # fmt: skip
HISTORY_STEPS = (0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0)


def percent_label(value: float | Decimal, places: int | None) -> str:
    """A percentage for people, in the page's number format: "99.90 %" (None: as given)."""
    return _("%(value)s %%") % {"value": number_format(value, places)}


def duration_top(seconds: float) -> int:
    """The axis top for a duration: the first nice value at or above it."""
    return next((top for top in NICE_TOPS if seconds <= top), NICE_TOPS[-1])


def _svg(title: str, body: Sequence[str], css_class: str, width: int) -> SafeString:
    # Safe to mark: every text and attribute value in ``body`` went through escape().
    return mark_safe(  # noqa: S308
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart {css_class} {variant(width)}" '
        f'viewBox="0 0 {width} {HEIGHT}" role="img" aria-label="{escape(title)}" '
        f'font-family="system-ui, sans-serif"><title>{escape(title)}</title>{"".join(body)}</svg>'
    )


def _text(x: float, y: float, label: str, anchor: str = "middle") -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="11" '
        f'fill="{TEXT}">{escape(label)}</text>'
    )


@dataclass(frozen=True)
class _TimeFrame:
    """Maps a moment and a duration onto the plot area."""

    start: datetime
    end: datetime
    top: float  # seconds
    width: int = WIDTH
    left: float = LEFT  # room for the axis labels: wider when a label needs it

    def x(self, moment: datetime) -> float:
        span = (self.end - self.start).total_seconds() or 1.0
        fraction = (moment - self.start).total_seconds() / span
        return self.left + min(max(fraction, 0.0), 1.0) * (self.width - self.left - RIGHT)

    def y(self, amount: timedelta) -> float:
        fraction = min(amount.total_seconds(), self.top) / self.top
        return HEIGHT - BOTTOM - fraction * (HEIGHT - TOP - BOTTOM)


def _duration_labels(top: float) -> list[str]:
    """The five labels of a duration axis up to ``top`` seconds."""
    return [human_duration(top * i / 4) for i in range(5)]


def _duration_axis(frame: _TimeFrame) -> list[str]:
    parts = []
    for i, label in enumerate(_duration_labels(frame.top)):
        y = frame.y(timedelta(seconds=frame.top * i / 4))
        parts.append(
            f'<line x1="{frame.left:.1f}" x2="{frame.width - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="{GRID}" stroke-width="1"/>'
        )
        parts.append(_text(frame.left - 6, y + 4, label, "end"))
    return parts


def _day_axis(frame: _TimeFrame, days: Sequence[tuple[date, datetime]]) -> list[str]:
    """A label on every few local midnights, as many as fit side by side (at most eight)."""
    labels = [date_format(day, "MONTH_DAY_FORMAT") for day, _moment in days]
    room = (frame.width - frame.left - RIGHT) / max(len(days), 1)  # between two midnights
    widest = max((text_width(label) for label in labels), default=0.0)
    step = max(1, -(-len(days) // 8), -int(-(widest + 12) // room))
    return [
        _text(frame.x(moment), HEIGHT - 8, label)
        for index, ((_day, moment), label) in enumerate(zip(days, labels, strict=True))
        if index % step == 0
    ]


def _polyline(frame: _TimeFrame, points: Sequence[tuple[datetime, timedelta]], attrs: str) -> str:
    path = " ".join(f"{frame.x(at):.1f},{frame.y(amount):.1f}" for at, amount in points)
    return f'<polyline points="{path}" fill="none" {attrs}/>'


def _legend(items: Sequence[tuple[str, str, str]], width: int) -> list[str]:
    """(label, colour, dash) of each line, right-aligned along the top of the plot."""
    parts = []
    x: float = width - RIGHT
    for label, colour, dash in reversed(items):
        parts.append(_text(x, LEGEND_Y + 4, label, "end"))
        x -= text_width(label) + 8
        dashes = f' stroke-dasharray="{dash}"' if dash else ""
        parts.append(
            f'<line x1="{x - 18:.1f}" x2="{x:.1f}" y1="{LEGEND_Y}" y2="{LEGEND_Y}" '
            f'stroke="{colour}" stroke-width="2"{dashes}/>'
        )
        x -= 30
    return parts


def budget_svg(
    *,
    start: datetime,
    end: datetime,
    days: Sequence[tuple[date, datetime]],
    allowed: timedelta,
    burn: Sequence[tuple[datetime, timedelta]],
    pace: Sequence[tuple[datetime, timedelta]],
    title: str,
    legend: tuple[str, str, str],
    width: int = WIDTH,
) -> SafeString:
    """Budget used over the window (solid) against the allowance (red) and even pace (dashed).

    ``days`` are the window's local midnights (date, moment) for the time axis; ``burn`` the
    budget used by each moment so far; ``pace`` what an even spend would have used by then.
    ``legend`` names the used, allowance and pace lines; ``width``: the drawing's width.
    """
    highest = max([allowed, *(amount for _at, amount in burn)])
    top = float(duration_top(highest.total_seconds() * 1.05))
    left = max(LEFT, max(text_width(label) for label in _duration_labels(top)) + 10)
    frame = _TimeFrame(start, end, top, width, left)
    allowance_y = frame.y(allowed)
    body = [*_duration_axis(frame), *_day_axis(frame, days)]
    body.append(
        f'<line class="budget-allowance" x1="{left:.1f}" x2="{width - RIGHT}" '
        f'y1="{allowance_y:.1f}" '
        f'y2="{allowance_y:.1f}" stroke="{FAIL}" stroke-width="1.5"/>'
    )
    if len(pace) > 1:
        body.append(
            _polyline(
                frame,
                pace,
                f'class="budget-pace" stroke="{PACE}" stroke-width="1.5" stroke-dasharray="5 4"',
            )
        )
    if burn:
        points = [(start, timedelta(0)), *burn]
        body.append(
            _polyline(
                frame,
                points,
                f'class="budget-used" stroke="{LINE}" stroke-width="2" stroke-linejoin="round"',
            )
        )
        last_at, last = burn[-1]
        body.append(
            f'<circle class="budget-now" cx="{frame.x(last_at):.1f}" cy="{frame.y(last):.1f}" '
            f'r="3" fill="{LINE}"/>'
        )
    used, allowance, even = legend
    body.extend(_legend([(used, LINE, ""), (allowance, FAIL, ""), (even, PACE, "5 4")], width))
    return _svg(title, body, "chart--budget", width)


# A month's bar: met green, missed red, at risk amber, and a running month on track (or a
# month without a target) neutral: its figure is provisional, not a verdict.
BAR_FILL = {"met": OK, "missed": FAIL, "risk": "#d97706", "provisional": LINE}


@dataclass(frozen=True)
class HistoryBar:
    """One month of the history chart."""

    label: str
    percent: float | None  # None: nothing known
    shown: str  # the figure as the page shows it (rounded down)
    kind: str = "provisional"  # met, missed, risk or provisional (``BAR_FILL``)


def _history_bottom(lowest: float) -> float:
    """The axis bottom: 100 % less a round step a bit larger than the deepest fall."""
    fall = (100.0 - lowest) * 1.25
    step = next((s for s in HISTORY_STEPS if fall <= s), HISTORY_STEPS[-1])
    return 100.0 - step


def history_svg(
    months: Sequence[HistoryBar],
    *,
    target: Decimal | None,
    title: str,
    target_label: str,
    width: int = WIDTH,
) -> SafeString:
    """A bar a month (availability %), coloured by its verdict (``BAR_FILL``).

    A month with nothing known has no bar. The axis runs from a round figure below the
    lowest month (or the target) to 100 %. Month labels are left out in turn where they
    would not fit under their bars (a narrow drawing, many months).
    """
    known = [bar.percent for bar in months if bar.percent is not None]
    lowest = min([*known, float(target) if target is not None else 100.0, 99.9])
    bottom = _history_bottom(lowest)
    plot_height = HEIGHT - TOP - BOTTOM

    def y(percent: float) -> float:
        fraction = (min(max(percent, bottom), 100.0) - bottom) / (100.0 - bottom)
        return HEIGHT - BOTTOM - fraction * plot_height

    body = []
    ticks = [(value, percent_label(value, 2)) for value in (bottom, (bottom + 100.0) / 2, 100.0)]
    left = max(LEFT, max(text_width(label) for _value, label in ticks) + 10)
    for value, label in ticks:
        body.append(
            f'<line x1="{left:.1f}" x2="{width - RIGHT}" y1="{y(value):.1f}" y2="{y(value):.1f}" '
            f'stroke="{GRID}" stroke-width="1"/>'
        )
        body.append(_text(left - 6, y(value) + 4, label, "end"))
    slot = (width - left - RIGHT) / max(len(months), 1)
    widest = max((text_width(bar.label) for bar in months), default=0.0)
    every = max(1, -int(-(widest + 8) // slot))  # label every n-th month so labels never touch
    for index, bar in enumerate(months):
        x = left + index * slot
        if (len(months) - 1 - index) % every == 0:  # the latest month always labelled
            # Under its bar, moved in where the drawing's edge would cut it.
            half = text_width(bar.label) / 2
            centre = min(max(x + slot / 2, half + 2), width - half - 2)
            body.append(_text(centre, HEIGHT - 8, bar.label))
        if bar.percent is None:
            continue
        top = y(bar.percent)
        body.append(
            f'<rect class="history-bar history-bar--{bar.kind}" '
            f'x="{x + slot * 0.2:.1f}" y="{top:.1f}" width="{slot * 0.6:.1f}" '
            f'height="{max(HEIGHT - BOTTOM - top, 1.0):.1f}" fill="{BAR_FILL[bar.kind]}">'
            f"<title>{escape(bar.label)}: {escape(bar.shown)}</title></rect>"
        )
    if target is not None:
        target_y = y(float(target))
        body.append(
            f'<line class="history-target" x1="{left:.1f}" x2="{width - RIGHT}" '
            f'y1="{target_y:.1f}" '
            f'y2="{target_y:.1f}" stroke="{TEXT}" stroke-width="1.5" stroke-dasharray="5 4"/>'
        )
        body.extend(_legend([(target_label, TEXT, "5 4")], width))
    return _svg(title, body, "chart--history", width)
