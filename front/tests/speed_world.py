"""A speed monitor with 80 days of measurements for the page tests and the page sweep."""

from __future__ import annotations

from datetime import datetime, timedelta

from monitoring.models import CheckKind, Monitor, SpeedMeasurement
from sites.models import Site

OLD_ENV = "mobile/chromium-149/cpu-2100"
NEW_ENV = "mobile/chromium-150/cpu-2208"


def speed_monitor_with_trend(site: Site, now: datetime) -> Monitor:
    """A speed monitor of ``site``: 60 days in one environment, then 20 in a new Chromium;
    budgets for LCP and CLS, the latest measurement over the LCP budget only."""
    monitor = Monitor.objects.create(
        site=site,
        name="Home speed",
        kind=CheckKind.SPEED,
        url=f"{site.url}/",
        config={"budgets": {"lcp_ms": 2500, "cls": 0.1}},
        critical=False,
    )
    rows = []
    for day in range(80, 0, -1):
        old = day > 20
        rows.append(
            SpeedMeasurement(
                monitor=monitor,
                measured_at=now - timedelta(days=day),
                environment=OLD_ENV if old else NEW_ENV,
                browser_version="149.0.7827.50" if old else "150.0.7871.100",
                cpu_score=2100.0 if old else 2208.0,
                profile="mobile",
                runs=3,
                lcp_ms=2000.0 + day,
                cls=0.01,
                tbt_ms=100.0,
                fcp_ms=800.0,
                ttfb_ms=40.0,
                bytes=500_000,
                requests=20,
                heaviest=[
                    {"url": f"{site.url}/media/hero.jpg", "bytes": 310_000, "type": "Image"},
                    {"url": f"{site.url}/static/app.js", "bytes": 90_000, "type": "Script"},
                ],
            )
        )
    latest = rows[-1]
    latest.lcp_ms, latest.cls, latest.broken = 3100.0, 0.02, ["lcp_ms"]
    SpeedMeasurement.objects.bulk_create(rows)
    return monitor
