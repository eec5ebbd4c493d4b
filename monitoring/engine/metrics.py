"""The engine's Prometheus metrics, served on its own port.

Each engine has its own registry (tests run several engines in one process). Counters are
bumped per check, so their label children are looked up once per kind and failure class and
kept; the gauges are read only when scraped, costing the checks nothing.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

logger = logging.getLogger("sitecare.engine")

# Schedule lag is normally milliseconds; seconds mean the engine is overloaded.
LAG_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class EngineMetrics:
    """Counters, the lag histogram and scrape-time gauges of one probe engine."""

    def __init__(
        self,
        *,
        in_flight: Callable[[], float],
        pending: Callable[[], float],
        scheduled: Callable[[], float],
    ) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._checks = Counter(
            "sitecare_checks", "Checks run, by kind.", ["kind"], registry=self.registry
        )
        self._failures = Counter(
            "sitecare_check_failures",
            "Failed checks, by kind and failure class.",
            ["kind", "failure_class"],
            registry=self.registry,
        )
        self.results_written = Counter(
            "sitecare_results_written", "Check results stored.", registry=self.registry
        )
        self.schedule_lag = Histogram(
            "sitecare_schedule_lag_seconds",
            "How late a check started after its due time.",
            buckets=LAG_BUCKETS,
            registry=self.registry,
        )
        self._gauge("sitecare_checks_in_flight", "Checks running now.", in_flight)
        self._gauge("sitecare_pending_results", "Results waiting to be stored.", pending)
        self._gauge("sitecare_monitors_scheduled", "Monitors on the schedule.", scheduled)
        self._check_children: dict[str, Counter] = {}
        self._failure_children: dict[tuple[str, str], Counter] = {}
        self._server: WSGIServer | None = None
        self._thread: threading.Thread | None = None

    def _gauge(self, name: str, doc: str, read: Callable[[], float]) -> None:
        Gauge(name, doc, registry=self.registry).set_function(read)

    def count_check(self, kind: str, ok: bool, failure_class: str) -> None:
        """Count one finished check (and its failure class when it failed)."""
        child = self._check_children.get(kind)
        if child is None:
            child = self._check_children[kind] = self._checks.labels(kind)
        child.inc()
        if ok:
            return
        key = (kind, failure_class)
        failed = self._failure_children.get(key)
        if failed is None:
            failed = self._failure_children[key] = self._failures.labels(kind, failure_class)
        failed.inc()

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
