"""Server-rendered SVG charts: pure functions from points to an SVG string, no JavaScript.

The same SVG serves the web page and (later) the PDF report, so colours are presentation
attributes rather than page CSS. Every piece of text is escaped here: the caller may pass a
monitor's name, which a tenant chose.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from html import escape

from django.utils.formats import number_format
from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT = 960, 200
# The same chart drawn narrow for phones: its text stays about the size of the page's small
# print instead of shrinking with a 960-wide drawing to a third (the page's CSS shows one).
NARROW = 360
LEFT, RIGHT, TOP, BOTTOM = 56, 12, 12, 26
LINE = "#2563eb"
AREA = "#2563eb"
FAIL = "#dc2626"
GRID = "#e5e7eb"
TEXT = "#6b7280"
MAX_POINTS = 288  # one point per 5 minutes over 24 h


@dataclass(frozen=True)
class CheckPoint:
    """One check result as the chart needs it."""

    at: datetime
    ok: bool
    response_ms: float | None


@dataclass(frozen=True)
class Bucket:
    """Checks falling into one slice of the period: a typical response time of the good ones
    (the mean of raw points, or an hour's median), and optionally their 95th percentile.
    """

    start: datetime
    end: datetime
    response_ms: float | None
    checks: int
    failures: int
    p95_ms: float | None = None


def downsample(
    points: Sequence[CheckPoint], *, start: datetime, end: datetime, buckets: int = MAX_POINTS
) -> list[Bucket]:
    """Cut ``[start, end)`` into equal slices; average the good checks' response per slice.

    Slices with no check at all are dropped, so a gap shows as a break in the line.
    """
    span = (end - start).total_seconds()
    if span <= 0 or buckets <= 0:
        return []
    step = span / buckets
    sums = [0.0] * buckets
    goods = [0] * buckets
    counts = [0] * buckets
    fails = [0] * buckets
    for point in points:
        index = int((point.at - start).total_seconds() // step)
        if not 0 <= index < buckets:
            continue
        counts[index] += 1
        if not point.ok:
            fails[index] += 1
        elif point.response_ms is not None:
            sums[index] += point.response_ms
            goods[index] += 1
    return [
        Bucket(
            start=start + timedelta(seconds=i * step),
            end=start + timedelta(seconds=(i + 1) * step),
            response_ms=sums[i] / goods[i] if goods[i] else None,
            checks=counts[i],
            failures=fails[i],
        )
        for i in range(buckets)
        if counts[i]
    ]


def nice_ceiling(value: float) -> float:
    """The smallest 1-2-5 step number at or above ``value`` (axis top): 730 → 1000."""
    if value <= 0:
        return 100.0
    magnitude = 10 ** math.floor(math.log10(value))
    for factor in (1, 2, 5, 10):
        if value <= factor * magnitude:
            return float(factor * magnitude)
    return float(10 * magnitude)


def wide_and_narrow(draw: Callable[..., SafeString]) -> SafeString:
    """A chart drawn at both widths (``WIDTH``, ``NARROW``), for the page to show one."""
    # Safe to mark: each drawing is safe markup already.
    return mark_safe(str(draw(width=WIDTH)) + str(draw(width=NARROW)))  # noqa: S308


def variant(width: int) -> str:
    """The CSS class saying which screens a drawing of this width is for."""
    return "chart--narrow" if width < WIDTH else "chart--wide"


def axis_number(value: float) -> str:
    """A figure of an axis in the reader's number format, without needless decimals."""
    places = 0 if float(value).is_integer() else len(f"{value:g}".partition(".")[2])
    return number_format(value, places)


@dataclass(frozen=True)
class _Frame:
    """Maps time and milliseconds onto the plot area."""

    start: datetime
    end: datetime
    top_ms: float
    width: int = WIDTH

    def x(self, moment: datetime) -> float:
        span = (self.end - self.start).total_seconds() or 1.0
        fraction = (moment - self.start).total_seconds() / span
        return LEFT + fraction * (self.width - LEFT - RIGHT)

    def y(self, ms: float) -> float:
        fraction = min(ms, self.top_ms) / self.top_ms
        return HEIGHT - BOTTOM - fraction * (HEIGHT - TOP - BOTTOM)


def _y_axis(frame: _Frame) -> list[str]:
    parts = []
    for i in range(5):
        ms = frame.top_ms * i / 4
        y = frame.y(ms)
        label = f"{axis_number(ms / 1000)} s" if frame.top_ms >= 2000 else f"{axis_number(ms)} ms"
        parts.append(
            f'<line x1="{LEFT}" x2="{frame.width - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="{GRID}" stroke-width="1"/>'
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" '
            f'fill="{TEXT}">{escape(label)}</text>'
        )
    return parts


def _x_axis(frame: _Frame, tz: tzinfo) -> list[str]:
    """A label every few hours, on round local hours (fewer on a narrow drawing)."""
    labels = 6 if frame.width >= WIDTH else 3
    hours = max(1, round((frame.end - frame.start).total_seconds() / 3600 / labels))
    local = frame.start.astimezone(tz).replace(minute=0, second=0, microsecond=0)
    tick = local + timedelta(hours=1)
    parts = []
    while tick < frame.end:
        x = frame.x(tick)
        half = text_width("00:00") / 2
        # A label too close to either end would be cut by the drawing's edge: left out.
        if tick.hour % hours == 0 and half <= x <= frame.width - half:
            parts.append(
                f'<text x="{x:.1f}" y="{HEIGHT - 8}" text-anchor="middle" font-size="11" '
                f'fill="{TEXT}">{escape(tick.strftime("%H:%M"))}</text>'
            )
        tick += timedelta(hours=1)
    return parts


def _runs(buckets: Sequence[Bucket]) -> list[list[Bucket]]:
    """Consecutive buckets with a response time; a missing one breaks the line."""
    runs: list[list[Bucket]] = []
    current: list[Bucket] = []
    previous_end: datetime | None = None
    for bucket in buckets:
        contiguous = previous_end is not None and bucket.start <= previous_end
        if bucket.response_ms is None or (current and not contiguous):
            if current:
                runs.append(current)
            current = []
        if bucket.response_ms is not None:
            current.append(bucket)
        previous_end = bucket.end
    if current:
        runs.append(current)
    return runs


def _line(frame: _Frame, buckets: Sequence[Bucket]) -> list[str]:
    parts = []
    base = HEIGHT - BOTTOM
    for run in _runs(buckets):
        coords = [
            (frame.x(b.start + (b.end - b.start) / 2), frame.y(b.response_ms or 0.0)) for b in run
        ]
        if len(coords) == 1:
            x, y = coords[0]
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2" fill="{LINE}"/>')
            continue
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
        area = f"{coords[0][0]:.1f},{base} {path} {coords[-1][0]:.1f},{base}"
        parts.append(f'<polygon points="{area}" fill="{AREA}" fill-opacity="0.08"/>')
        parts.append(
            f'<polyline points="{path}" fill="none" stroke="{LINE}" stroke-width="1.5" '
            'stroke-linejoin="round"/>'
        )
    return parts


def _p95_line(frame: _Frame, buckets: Sequence[Bucket]) -> list[str]:
    """The 95th percentile as a thin dashed line over the main one (slow tails show)."""
    parts = []
    for run in _runs(buckets):
        coords = [
            (frame.x(b.start + (b.end - b.start) / 2), frame.y(b.p95_ms))
            for b in run
            if b.p95_ms is not None
        ]
        if len(coords) < 2:
            continue
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
        parts.append(
            f'<polyline class="chart-p95" points="{path}" fill="none" stroke="{LINE}" '
            'stroke-width="1" stroke-dasharray="4 3" stroke-opacity="0.7"/>'
        )
    return parts


def text_width(label: str) -> float:
    """About how wide a label is at font size 11 (SVG cannot measure without a browser):
    about 6.5 units a character, a little more for wide letters."""
    return sum(8.5 if ch in "mwMW%" else 6.5 for ch in label)


def _legend(labels: Sequence[str], width: int = WIDTH) -> list[str]:
    """Names of the lines (solid, then dashed) in the top right corner of the plot."""
    parts = []
    x: float = width - RIGHT
    for index, label in reversed(list(enumerate(labels))):
        dash = ' stroke-dasharray="4 3"' if index else ""
        parts.append(
            f'<text x="{x:.1f}" y="{TOP + 10}" text-anchor="end" font-size="11" '
            f'fill="{TEXT}">{escape(label)}</text>'
        )
        x -= text_width(label) + 8
        parts.append(
            f'<line x1="{x - 18:.1f}" x2="{x:.1f}" y1="{TOP + 6}" y2="{TOP + 6}" stroke="{LINE}" '
            f'stroke-width="1.5"{dash}/>'
        )
        x -= 30
    return parts


def _failures(frame: _Frame, buckets: Sequence[Bucket]) -> list[str]:
    """A red band over each slice with a failed check, and a tick on the time axis."""
    parts = []
    for bucket in buckets:
        if not bucket.failures:
            continue
        x = frame.x(bucket.start)
        width = max(2.0, frame.x(bucket.end) - x)
        parts.append(
            f'<rect class="chart-failure" x="{x:.1f}" y="{TOP}" width="{width:.1f}" '
            f'height="{HEIGHT - TOP - BOTTOM}" fill="{FAIL}" fill-opacity="0.14"/>'
            f'<rect x="{x:.1f}" y="{HEIGHT - BOTTOM}" width="{width:.1f}" height="4" '
            f'fill="{FAIL}"/>'
        )
    return parts


def response_time_svg(
    buckets: Sequence[Bucket],
    *,
    start: datetime,
    end: datetime,
    tz: tzinfo,
    title: str,
    empty_text: str,
    legend: Sequence[str] = (),
    width: int = WIDTH,
) -> SafeString:
    """An SVG line chart of response times with failed slices marked in red (safe markup).

    Buckets carrying a 95th percentile get it drawn dashed; ``legend`` names the solid line
    and then the dashed one. ``width``: the drawing's width (``NARROW`` for phones).
    """
    tops = [ms for b in buckets for ms in (b.response_ms, b.p95_ms) if ms is not None]
    frame = _Frame(start, end, nice_ceiling(max(tops, default=0.0)), width)
    body = [
        *_y_axis(frame),
        *_x_axis(frame, tz),
        *_failures(frame, buckets),
        *_line(frame, buckets),
        *_p95_line(frame, buckets),
    ]
    if buckets and legend:
        body.extend(_legend(legend, width))
    if not buckets:
        body.append(
            f'<text x="{(LEFT + width - RIGHT) / 2}" y="{(TOP + HEIGHT - BOTTOM) / 2}" '
            f'text-anchor="middle" font-size="13" fill="{TEXT}">{escape(empty_text)}</text>'
        )
    # Safe to mark: every text and attribute value above went through escape().
    return mark_safe(  # noqa: S308
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart {variant(width)}" '
        f'viewBox="0 0 {width} {HEIGHT}" '
        f'role="img" aria-label="{escape(title)}" font-family="system-ui, sans-serif">'
        f"<title>{escape(title)}</title>{''.join(body)}</svg>"
    )
