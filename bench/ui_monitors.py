"""The monitors list at scale: server time and SQL queries of ``/monitors/`` pages.

Run by hand (not part of the test suite)::

    uv run python bench/ui_monitors.py [--sites 1000] [--monitors 10] [--requests 20]

1. Point sitecare at a fresh SQLite database in a temporary directory and migrate it.
2. Seed one agency: 100 clients of ``sites / 100`` sites each, ``--monitors`` monitors per
   site (http, tcp, tls, dns, heartbeat in turn; states up, down and unknown, one in twenty
   paused, one in three tagged with one of 20 tags), and its owner.
3. :func:`measure_monitor_list`: as the owner, request each view of the list (the first page,
   a search, a filtered and sorted view, a deep page) ``--requests`` times through the Django
   test client (in process: the time is the server's), and print the median and 90th
   percentile, the median CPU time, the SQL queries of one request and the page size.

``measure_monitor_list(client)`` takes any signed-in test client, so ``bench/ui.py`` can run it
on the database it seeds for the dashboard and ``/sla/``.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from benchlib import use_temporary_database  # beside this script: python bench/…

GOAL_MS = 300.0
VIEWS = {
    "first page": {},
    "search": {"q": "shop 12"},
    "filtered, by state": {"kind": "http", "state": "down", "sort": "state"},
    "tag, by last check": {"tag": "1", "sort": "-last_check"},
    "page 100": {"page": "100", "sort": "client"},
}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=1000, help="sites (default 1000)")
    parser.add_argument("--monitors", type=int, default=10, help="monitors per site (10)")
    parser.add_argument("--requests", type=int, default=20, help="requests per view (20)")
    parser.add_argument("--seed", type=int, default=1)
    return parser.parse_args()


def seed(sites: int, monitors_per_site: int, rng: random.Random) -> Any:
    """Write the agency, its clients, sites, monitors and tags; return the owner (a User)."""
    from datetime import timedelta

    from django.contrib.auth.models import User
    from django.utils import timezone

    from monitoring.models import CheckKind, Monitor, MonitorState, Tag, TagColour
    from sites.models import Site
    from tenancy.models import Client, Membership, Organization, Role

    now = timezone.now()
    org = Organization.objects.create(name="Bench agency", slug="bench")
    clients = Client.objects.bulk_create(
        [Client(organization=org, name=f"Client {i:03d}", slug=f"c{i}") for i in range(100)]
    )
    site_rows = Site.objects.bulk_create(
        [
            Site(
                client=clients[i % 100], name=f"Shop {i}", slug=f"s{i}", url=f"https://s{i}.example"
            )
            for i in range(sites)
        ]
    )
    kinds = [CheckKind.HTTP, CheckKind.TCP, CheckKind.TLS, CheckKind.DNS, CheckKind.HEARTBEAT]
    states = [MonitorState.UP] * 8 + [MonitorState.DOWN, MonitorState.UNKNOWN]
    colours = list(TagColour.values)
    tags = Tag.objects.bulk_create(
        [
            Tag(organization=org, name=f"tag {i}", colour=colours[i % len(colours)])
            for i in range(20)
        ]
    )
    rows = []
    for site in site_rows:
        for n in range(monitors_per_site):
            kind = kinds[n % len(kinds)]
            rows.append(
                Monitor(
                    site=site,
                    name=f"{kind} {n}",
                    kind=kind,
                    url=f"https://{site.slug}.example/{n}",
                    state=rng.choice(states),
                    enabled=rng.random() > 0.05,
                    last_checked_at=now - timedelta(seconds=rng.randint(0, 3600)),
                    last_response_ms=rng.uniform(50, 900),
                )
            )
    monitors = Monitor.objects.bulk_create(rows, batch_size=2000)
    through = Monitor.tags.through
    links = [
        through(monitor_id=m.pk, tag_id=rng.choice(tags).pk)
        for m in monitors
        if rng.random() < 1 / 3
    ]
    through.objects.bulk_create(links, batch_size=5000)
    owner = User.objects.create_user("bench-owner", password="bench-password-1")
    Membership.objects.create(user=owner, organization=org, role=Role.OWNER)
    return owner


def measure_monitor_list(client: Any, requests: int = 20) -> dict[str, Any]:
    """Each view of ``/monitors/`` requested ``requests`` times by a signed-in test client:
    median and 90th percentile server time (ms), median CPU time (ms), queries of one request,
    page size (bytes).

    The first request of each view warms caches and is not counted.
    """
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    url = reverse("front:monitors")
    figures: dict[str, Any] = {}
    for name, params in VIEWS.items():
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url, params)
        # Counted now: the capture reads the connection's log, which later requests empty.
        queries = len(captured)
        if response.status_code != 200:
            raise RuntimeError(f"{name}: HTTP {response.status_code}")
        times, cpu = [], []
        for _ in range(requests):
            start, start_cpu = time.perf_counter(), time.process_time()
            client.get(url, params)
            times.append((time.perf_counter() - start) * 1000)
            cpu.append((time.process_time() - start_cpu) * 1000)
        times.sort()
        figures[name] = {
            "median_ms": statistics.median(times),
            # CPU time of this process (the server, in process): what a loaded machine's
            # waiting for a core does not inflate.
            "cpu_ms": statistics.median(cpu),
            "p90_ms": times[round(0.9 * (len(times) - 1))],
            "queries": queries,
            "bytes": len(response.content),
            "rows": len(response.context["rows"]) if response.context else None,
        }
    return figures


def report(figures: dict[str, Any]) -> str:
    head = f"{'view':<22} {'median':>9} {'p90':>9} {'CPU':>9} {'queries':>8} {'KB':>7} {'rows':>5}"
    lines = [head]
    for name, row in figures.items():
        lines.append(
            f"{name:<22} {row['median_ms']:>7.1f}ms {row['p90_ms']:>7.1f}ms"
            f" {row['cpu_ms']:>7.1f}ms {row['queries']:>8} {row['bytes'] / 1024:>7.1f}"
            f" {row['rows']:>5}"
        )
    worst = max(row["median_ms"] for row in figures.values())
    verdict = "meets" if worst < GOAL_MS else "MISSES"
    lines.append(f"slowest median {worst:.1f} ms: {verdict} the goal of {GOAL_MS:.0f} ms")
    return "\n".join(lines)


def main() -> None:
    args = parse_args()
    os.environ.setdefault("SITECARE_ALLOWED_HOSTS", "testserver,localhost")
    with tempfile.TemporaryDirectory(prefix="sitecare-bench-ui-") as tmp:
        use_temporary_database(Path(tmp))
        from django.test import Client as HttpClient
        from django.test.utils import setup_test_environment

        setup_test_environment()  # so responses carry their context (the rows counted)
        started = time.perf_counter()
        owner = seed(args.sites, args.monitors, random.Random(args.seed))
        total = args.sites * args.monitors
        print(
            f"seeded {args.sites} sites, {total} monitors in {time.perf_counter() - started:.1f} s"
        )
        client = HttpClient()
        client.force_login(owner)
        print(report(measure_monitor_list(client, args.requests)))


if __name__ == "__main__":
    main()
