"""Monthly SLA figures for many sites over a year, from a generated state-change log.

Run by hand (not part of the test suite)::

    uv run python bench/sla.py [--sites 1000] [--monitors 3] [--outages 3] [--seed 1]

1. Point sitecare at a fresh SQLite database in a temporary directory and migrate it.
2. Generate 100 clients of ``sites / 100`` sites each (Europe/Warsaw), ``--monitors`` monitors
   per site, about ``--outages`` outages per monitor a month (exponential gaps, outages of
   1–90 minutes, overlapping between monitors of a site by chance), and one weekly Sunday
   02:00 maintenance window of an hour per client; half the clients are on a Mon–Fri 8–16
   business-hours calendar with Polish holidays, half on 24/7; an engine run log with a
   weekly restart and a crash every fourth week (time no run covers is unknown).
3. Timed, with the modules a server has loaded already imported (the holidays package's
   first use is timed apart): load the monitors, their state changes and the maintenance
   windows for 2026, build each site's timeline, and compute its 12 monthly figures.
4. Print the seconds, the figures' count and the peak resident memory of the process.
"""

from __future__ import annotations

import argparse
import itertools
import random
import resource
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from zoneinfo import ZoneInfo

from benchlib import use_temporary_database  # beside this script: run as python bench/…

# This script is named like the app it measures: drop its own folder from the path, so that
# ``import sla`` (and Django loading the ``sla`` app) finds the app, not this file.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

WARSAW = ZoneInfo("Europe/Warsaw")
YEAR = 2026


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=1000, help="sites (default 1000)")
    parser.add_argument("--monitors", type=int, default=3, help="monitors per site (default 3)")
    parser.add_argument("--outages", type=float, default=3.0, help="outages a monitor-month")
    parser.add_argument("--seed", type=int, default=1)
    return parser.parse_args()


def months() -> list[tuple[datetime, datetime]]:
    bounds = [datetime(YEAR, m, 1, tzinfo=WARSAW) for m in range(1, 13)]
    bounds.append(datetime(YEAR + 1, 1, 1, tzinfo=WARSAW))
    return [(a.astimezone(UTC), b.astimezone(UTC)) for a, b in itertools.pairwise(bounds)]


def generate(args: argparse.Namespace) -> int:
    """Write the clients, sites, monitors, windows and state changes; returns the changes."""
    from django.db import transaction

    from incidents.models import MaintenanceWindow
    from monitoring.models import CheckKind, EngineRun, Monitor, MonitorState, StateChange
    from sites.models import Site
    from tenancy.models import Client, Organization

    rng = random.Random(args.seed)
    start = datetime(YEAR, 1, 1, tzinfo=UTC) - timedelta(days=30)
    end = datetime(YEAR + 1, 1, 1, tzinfo=UTC)
    mean_gap = timedelta(days=30) / args.outages
    with transaction.atomic():
        org = Organization.objects.create(name="Bench", slug="bench")
        clients = Client.objects.bulk_create(
            Client(organization=org, name=f"Client {i}", slug=f"client-{i}") for i in range(100)
        )
        sites = Site.objects.bulk_create(
            Site(
                client=clients[i % 100],
                name=f"Site {i}",
                slug=f"site-{i}",
                time_zone="Europe/Warsaw",
            )
            for i in range(args.sites)
        )
        for client in clients:
            MaintenanceWindow.objects.create(
                client=client,
                title="Updates",
                start_date=date(YEAR - 1, 12, 6),
                start_time=clock(2),
                duration_minutes=60,
                rrule="FREQ=WEEKLY;BYDAY=SU",
            )
        monitors = Monitor.objects.bulk_create(
            Monitor(
                site=site,
                name=f"Monitor {n}",
                kind=CheckKind.HTTP,
                url=f"https://{site.slug}.example/{n}",
                created_at=start,
                state=MonitorState.UP,
            )
            for site in sites
            for n in range(args.monitors)
        )
        changes = []
        for monitor in monitors:
            changes.append(
                StateChange(monitor=monitor, at=start, from_state="unknown", to_state="up")
            )
            at = start + timedelta(minutes=5)
            while True:
                at += timedelta(seconds=rng.expovariate(1 / mean_gap.total_seconds()))
                back = at + timedelta(seconds=rng.randint(60, 90 * 60))
                if back >= end:
                    break
                changes.append(
                    StateChange(monitor=monitor, at=at, from_state="up", to_state="down")
                )
                changes.append(
                    StateChange(monitor=monitor, at=back, from_state="down", to_state="up")
                )
                at = back
        StateChange.objects.bulk_create(changes, batch_size=5000)
        EngineRun.objects.bulk_create(engine_runs(start, end))
    return len(changes)


def engine_runs(start: datetime, end: datetime) -> list:
    """The engine's run log: restarted every Sunday at 03:00 (2 minutes down); every 4th
    run crashes 10 minutes before the restart (no stop recorded): those gaps are unknown."""
    from monitoring.models import EngineRun

    runs = []
    at, number = start, 0
    while at < end:
        restart = min(at + timedelta(days=7), end)
        crashed = number % 4 == 3
        stop = restart - timedelta(minutes=12 if crashed else 2)
        runs.append(
            EngineRun(
                started_at=at,
                last_seen_at=stop,
                stopped_at=None if crashed else stop,
                host="bench",
                pid=number,
            )
        )
        at, number = restart, number + 1
    return runs


def compute() -> int:
    """The timed part: load everything for the year and compute every site's months."""
    from monitoring.models import Monitor
    from sites.models import Site
    from sla.availability import availability_by_period
    from sla.calendar import Calendar
    from sla.loading import maintenance_by_site, site_timelines

    periods = months()
    start, end = periods[0][0], periods[-1][1]
    always = Calendar.always()
    business = Calendar.business("Europe/Warsaw", opens=clock(8), closes=clock(16), country="PL")
    sites = list(Site.objects.only("id", "client_id", "time_zone"))
    monitors = Monitor.objects.only("id", "site_id", "created_at", "state", "kind", "first_ping_at")
    timelines = site_timelines(monitors, start, end, now=end)
    maintenance = maintenance_by_site(sites, start, end)
    figures = 0
    for site in sites:
        calendar = business if site.client_id % 2 else always
        results = availability_by_period(
            timelines.get(site.pk, []), calendar, periods, maintenance=maintenance[site.pk]
        )
        figures += len(results)
    return figures


def main() -> None:
    args = parse_args()
    with tempfile.TemporaryDirectory() as directory:
        use_temporary_database(Path(directory))
        began = time.perf_counter()
        changes = generate(args)
        print(f"generated {changes} state changes in {time.perf_counter() - began:.1f} s")
        import sla.availability
        import sla.loading  # noqa: F401  (imported before timing, as in a running server)
        from sla.calendar import Calendar

        # The holidays package imports all its ~250 country modules on first use (0.4-0.8 s
        # here, once per process): a running server has paid that before; measured apart.
        began = time.perf_counter()
        Calendar(country="PL").is_closed(date(YEAR, 1, 1))
        print(f"first use of the holidays package: {time.perf_counter() - began:.2f} s")

        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        began = time.perf_counter()
        figures = compute()
        seconds = time.perf_counter() - began
        rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(f"{figures} site-months ({args.sites} sites × 12) in {seconds:.2f} s")
        print(f"peak RSS {rss_after / 1024:.0f} MiB (was {rss_before / 1024:.0f} MiB before)")


if __name__ == "__main__":
    main()
