"""One page load's Web Vitals in a browser session: throttling, observers, and the figures.

What one load records (``measure_load``), each figure as the page's own clock saw it
(milliseconds from the navigation's start):

- **LCP**: the last ``largest-contentful-paint`` candidate before the observation ends (no
  input is ever sent, so nothing finalises it earlier);
- **FCP**: the ``first-contentful-paint`` paint entry;
- **TTFB**: the navigation entry's ``responseStart`` (minus ``activationStart``, as web-vitals
  does). Chromium applies the emulated latency to the response body, so under throttling it
  reads close to the server's own time, as in Lighthouse's devtools mode;
- **CLS**: web-vitals' definition: layout shifts without recent input grouped into session
  windows (a gap under 1 s, a window at most 5 s long), the largest window's sum;
- **TBT**: for each long task (over 50 ms) the part past 50 ms, counting only what lies inside
  the **TBT window**: from FCP to the end of the observation. The observation ends once the
  page is quiet after its ``load`` event (no request in flight or started and no long task for
  ``QUIET_S``), or ``QUIET_CAP_S`` after ``load`` at the latest. Lighthouse ends the window at
  Time to Interactive; without simulating TTI, a quiet second is the same idea;
- **bytes**, **requests**: from the DevTools protocol's Network events: every http(s) request
  (each redirect hop counts) and the bytes received on the wire (headers included);
- the **heaviest resources**: the top five responses by bytes (URL, bytes, resource type).

Throttling goes through the DevTools protocol of the page's own target: mobile is Lighthouse's
devtools "Slow 4G" (150 ms RTT × 3.75 = 562.5 ms request latency, 1.6 Mbit/s × 0.9 down,
750 kbit/s × 0.9 up) with the CPU slowed 4×; desktop is Lighthouse's desktop connection
(40 ms RTT × 3.75 = 150 ms, 10 Mbit/s × 0.9 both ways) with the CPU as it is. The adjustment
factors are Lighthouse's (``DEVTOOLS_RTT_ADJUSTMENT_FACTOR``, ``…THROUGHPUT…``): DevTools
throttles per request, so the figures are scaled to read like a real connection.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

Profile = Literal["mobile", "desktop"]

LONG_TASK_MS = 50.0  # a task longer than this blocks input (TBT counts what lies past it)
CLS_GAP_MS = 1_000.0  # a layout shift this long after the previous one starts a new window
CLS_WINDOW_MS = 5_000.0  # a session window of shifts is at most this long
QUIET_S = 1.0  # quiet this long after load: the observation ends
QUIET_CAP_S = 5.0  # the observation ends this long after load whatever happens
POLL_S = 0.2
HEAVIEST = 5
URL_CHARS = 300


@dataclass(frozen=True)
class Throttle:
    """How one profile throttles the network and the CPU (the DevTools protocol's units)."""

    latency_ms: float
    download_kbps: float
    upload_kbps: float
    cpu_slowdown: float

    def network_conditions(self) -> dict[str, Any]:
        return {
            "offline": False,
            "latency": self.latency_ms,
            # Bytes per second, as Lighthouse converts its kbit/s figures.
            "downloadThroughput": self.download_kbps * 1024 / 8,
            "uploadThroughput": self.upload_kbps * 1024 / 8,
        }


RTT_FACTOR = 3.75
THROUGHPUT_FACTOR = 0.9
THROTTLES: dict[str, Throttle] = {
    "mobile": Throttle(
        latency_ms=150 * RTT_FACTOR,
        download_kbps=1.6 * 1024 * THROUGHPUT_FACTOR,
        upload_kbps=750 * THROUGHPUT_FACTOR,
        cpu_slowdown=4.0,
    ),
    "desktop": Throttle(
        latency_ms=40 * RTT_FACTOR,
        download_kbps=10 * 1024 * THROUGHPUT_FACTOR,
        upload_kbps=10 * 1024 * THROUGHPUT_FACTOR,
        cpu_slowdown=1.0,
    ),
}

# Installed before the page's own scripts: observers keep every entry from the start. The
# store is a non-enumerable, read-only property (a page's scripts do not trip over it).
OBSERVERS = """(() => {
  const store = {lcp: [], shifts: [], tasks: [], fcp: null};
  Object.defineProperty(window, '__sitecareVitals', {value: store});
  const observe = (type, take) => {
    try {
      new PerformanceObserver(list => list.getEntries().forEach(take))
        .observe({type, buffered: true});
    } catch (error) { /* an entry type this browser lacks */ }
  };
  observe('largest-contentful-paint', e => store.lcp.push({t: e.startTime, url: e.url || ''}));
  observe('layout-shift', e => store.shifts.push({t: e.startTime, v: e.value,
                                                  input: e.hadRecentInput}));
  observe('longtask', e => store.tasks.push({t: e.startTime, d: e.duration}));
  observe('paint', e => { if (e.name === 'first-contentful-paint') store.fcp = e.startTime; });
})();"""

READ_ENTRIES = """() => {
  const store = window.__sitecareVitals || {lcp: [], shifts: [], tasks: [], fcp: null};
  const nav = performance.getEntriesByType('navigation')[0];
  return {
    lcp: store.lcp, shifts: store.shifts, tasks: store.tasks, fcp: store.fcp,
    ttfb: nav ? Math.max(nav.responseStart - (nav.activationStart || 0), 0) : null,
    now: performance.now(),
  };
}"""

LAST_TASK_END = """() => {
  const tasks = (window.__sitecareVitals || {tasks: []}).tasks;
  const last = tasks.length ? tasks[tasks.length - 1] : null;
  return {now: performance.now(), end: last ? last.t + last.d : 0};
}"""


@dataclass
class LoadFigures:
    """What one page load measured."""

    lcp_ms: float | None
    cls: float
    tbt_ms: float
    fcp_ms: float | None
    ttfb_ms: float | None
    bytes: int
    requests: int
    resources: list[dict[str, Any]] = field(default_factory=list)  # the heaviest, biggest first
    status: int | None = None  # of the main document

    def figures(self) -> dict[str, float | int | None]:
        return {
            "lcp_ms": self.lcp_ms,
            "cls": self.cls,
            "tbt_ms": self.tbt_ms,
            "fcp_ms": self.fcp_ms,
            "ttfb_ms": self.ttfb_ms,
            "bytes": self.bytes,
            "requests": self.requests,
        }


def cumulative_layout_shift(shifts: Sequence[tuple[float, float, bool]]) -> float:
    """CLS of ``(start ms, value, had recent input)`` shifts: the largest session window.

    1. Leave out shifts right after input (they were expected).
    2. Group the rest into windows: a shift joins the current window if it comes less than
       ``CLS_GAP_MS`` after the previous one and less than ``CLS_WINDOW_MS`` after the
       window's first; else it opens a new one.
    3. The largest window's sum.
    """
    largest = current = 0.0
    first = previous = None
    for start, value, had_input in sorted(shifts):
        if had_input:
            continue
        if (
            first is None
            or previous is None
            or start - previous >= CLS_GAP_MS
            or start - first >= CLS_WINDOW_MS
        ):
            first, current = start, 0.0
        current += value
        previous = start
        largest = max(largest, current)
    return round(largest, 4)


def total_blocking_time(
    tasks: Sequence[tuple[float, float]], window_start: float | None, window_end: float
) -> float:
    """TBT of ``(start ms, duration ms)`` long tasks within ``[window_start, window_end]``.

    Each task is clipped to the window (Lighthouse's way: a task begun before FCP counts from
    FCP), then adds what lies past ``LONG_TASK_MS``. No FCP: nothing was painted, nothing is
    counted (the missing FCP says enough).
    """
    if window_start is None:
        return 0.0
    blocking = 0.0
    for start, duration in tasks:
        clipped = min(start + duration, window_end) - max(start, window_start)
        if clipped > LONG_TASK_MS:
            blocking += clipped - LONG_TASK_MS
    return round(blocking, 1)


class NetworkLog:
    """Requests and bytes of one load, from the DevTools protocol's Network events."""

    def __init__(self) -> None:
        self.requests = 0
        self.bytes = 0
        self.in_flight: set[str] = set()
        self.last_activity = time.monotonic()
        self.responses: dict[str, dict[str, Any]] = {}  # request id -> url, type, bytes

    def attach(self, cdp: Any) -> None:
        cdp.on("Network.requestWillBeSent", self._sent)
        cdp.on("Network.responseReceived", self._response)
        cdp.on("Network.loadingFinished", self._finished)
        cdp.on("Network.loadingFailed", self._failed)

    def _sent(self, event: dict[str, Any]) -> None:
        self.last_activity = time.monotonic()
        url = str(event.get("request", {}).get("url", ""))
        if not url.startswith(("http:", "https:")):
            return  # data: and blob: URLs travel nowhere
        redirect = event.get("redirectResponse")
        if redirect:  # the hop before: its bytes arrived, under the same request id
            self.bytes += int(redirect.get("encodedDataLength") or 0)
        self.requests += 1
        self.in_flight.add(event["requestId"])

    def _response(self, event: dict[str, Any]) -> None:
        response = event.get("response", {})
        self.responses[event["requestId"]] = {
            "url": str(response.get("url", ""))[:URL_CHARS],
            "type": str(event.get("type", "Other")),
            "bytes": 0,
        }

    def _finished(self, event: dict[str, Any]) -> None:
        self.last_activity = time.monotonic()
        received = int(event.get("encodedDataLength") or 0)
        self.bytes += received
        if event["requestId"] in self.responses:
            self.responses[event["requestId"]]["bytes"] = received
        self.in_flight.discard(event["requestId"])

    def _failed(self, event: dict[str, Any]) -> None:
        self.last_activity = time.monotonic()
        self.in_flight.discard(event["requestId"])

    def heaviest(self) -> list[dict[str, Any]]:
        ranked = sorted(self.responses.values(), key=lambda r: r["bytes"], reverse=True)
        return [dict(r) for r in ranked[:HEAVIEST] if r["bytes"] > 0]


def figures_of(entries: dict[str, Any], network: NetworkLog, *, status: int | None) -> LoadFigures:
    """The figures of one load from the observers' entries and the Network log."""
    lcp = entries.get("lcp") or []
    fcp = entries.get("fcp")
    shifts = [(float(s["t"]), float(s["v"]), bool(s["input"])) for s in entries.get("shifts", [])]
    tasks = [(float(t["t"]), float(t["d"])) for t in entries.get("tasks", [])]
    return LoadFigures(
        lcp_ms=round(float(lcp[-1]["t"]), 1) if lcp else None,
        cls=cumulative_layout_shift(shifts),
        tbt_ms=total_blocking_time(tasks, fcp, float(entries.get("now") or 0.0)),
        fcp_ms=round(float(fcp), 1) if fcp is not None else None,
        ttfb_ms=round(float(entries["ttfb"]), 1) if entries.get("ttfb") is not None else None,
        bytes=network.bytes,
        requests=network.requests,
        resources=network.heaviest(),
        status=status,
    )
