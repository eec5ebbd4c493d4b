"""The engine's Prometheus metrics, served on its own port.

Each engine has its own registry (tests run several engines in one process). The checks bump
plain counters on the event loop (a dict entry and an int: no locks, no label lookups), and a
collector turns them into Prometheus families only when scraped, so the metrics cost the checks
almost nothing at thousands of checks a second. The gauges are read at scrape time too.
"""

from __future__ import annotations

import bisect
import logging
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

logger = logging.getLogger("sitecare.engine")

# Schedule lag is normally milliseconds; seconds mean the engine is overloaded.
LAG_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class EngineMetrics(Collector):
    """Counters, the lag histogram and scrape-time gauges of one probe engine."""

    def __init__(
        self,
        *,
        in_flight: Callable[[], float],
        pending: Callable[[], float],
        scheduled: Callable[[], float],
    ) -> None:
        self.checks: Counter[str] = Counter()
        self.failures: Counter[tuple[str, str]] = Counter()
        self.results_written = 0
        # Lag histogram: a count per bucket of LAG_BUCKETS, plus the +Inf one at the end.
        self.lag_counts = [0] * (len(LAG_BUCKETS) + 1)
        self.lag_sum = 0.0
        self._gauges = (
            ("sitecare_checks_in_flight", "Checks running now.", in_flight),
            ("sitecare_pending_results", "Results waiting to be stored.", pending),
            ("sitecare_monitors_scheduled", "Monitors on the schedule.", scheduled),
        )
        self.registry = CollectorRegistry(auto_describe=True)
        self.registry.register(self)
        self._server: WSGIServer | None = None
        self._thread: threading.Thread | None = None

    def count_check(self, kind: str, ok: bool, failure_class: str) -> None:
        """Count one finished check (and its failure class when it failed)."""
        self.checks[kind] += 1
        if not ok:
            self.failures[(kind, failure_class)] += 1

    def observe_lag(self, seconds: float) -> None:
        """Count how late one check started after its due time."""
        self.lag_counts[bisect.bisect_left(LAG_BUCKETS, seconds)] += 1
        self.lag_sum += seconds

    def count_written(self, results: int) -> None:
        self.results_written += results

    def collect(self) -> Iterator[Metric]:
        """The families as Prometheus reads them (called by the endpoint's thread)."""
        checks = CounterMetricFamily("sitecare_checks", "Checks run, by kind.", labels=["kind"])
        for kind, count in list(self.checks.items()):
            checks.add_metric([kind], count)
        yield checks
        failures = CounterMetricFamily(
            "sitecare_check_failures",
            "Failed checks, by kind and failure class.",
            labels=["kind", "failure_class"],
        )
        for (kind, failure_class), count in list(self.failures.items()):
            failures.add_metric([kind, failure_class], count)
        yield failures
        yield CounterMetricFamily(
            "sitecare_results_written", "Check results stored.", value=self.results_written
        )
        counts, running = list(self.lag_counts), 0
        buckets = []
        for bound, count in zip([*map(str, LAG_BUCKETS), "+Inf"], counts, strict=True):
            running += count
            buckets.append((bound, running))
        yield HistogramMetricFamily(
            "sitecare_schedule_lag_seconds",
            "How late a check started after its due time.",
            buckets=buckets,
            sum_value=self.lag_sum,
        )
        for name, doc, read in self._gauges:
            yield GaugeMetricFamily(name, doc, value=read())

    @property
    def port(self) -> int | None:
        """The port the endpoint listens on, or None when it is not serving."""
        return self._server.server_port if self._server is not None else None

    def serve(self, host: str, port: int) -> bool:
        """Start the HTTP endpoint (``/metrics``) in a daemon thread; False if it cannot bind.

        A busy port is logged, not fatal: checking the sites matters more than the metrics.
        """
        if port <= 0 or self._server is not None:
            return False
        try:
            self._server, self._thread = start_http_server(port, host, registry=self.registry)
        except OSError:
            logger.warning("engine metrics cannot listen on %s:%s", host, port, exc_info=True)
            return False
        logger.info("engine metrics on http://%s:%s/metrics", host, self.port)
        return True

    def close(self) -> None:
        """Stop the HTTP endpoint, if serving."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=2.0)
