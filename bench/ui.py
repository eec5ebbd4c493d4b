"""Server time, size and SQL statements of the pages that summarise a large portfolio.

Run by hand (not part of the test suite)::

    uv run python bench/ui.py [--clients 100] [--sites 1000] [--monitors 10000]
                              [--changes 200000] [--runs 7] [--seed 1]

1. Point sitecare at a fresh SQLite database in a temporary directory and migrate it.
2. Generate (bulk_create) one agency and its owner; ``--clients`` clients, each on a care plan
   (every other one Mon–Fri 8–16 with Polish public holidays, the rest 24/7) with a weekly
   one-hour maintenance window; ``--sites`` sites spread over them and ``--monitors`` HTTP
   monitors spread over the sites, created 60 days ago; ``--changes`` state changes spread
   over the monitors in those 60 days (outages of 1–90 minutes); 1 % of the monitors down
   now, each with its open incident.
3. If sitecare keeps the clients' standings (``sla.standings``), bring them up to date once,
   as the alert sender's loop does (timed apart: that is background work).
4. Measure, signed in as the agency's owner through Django's test client, the dashboard and
   the SLA overview (``/sla/``): median server time of ``--runs`` requests after a warm-up
   one, the bytes of the answer and the SQL statements it ran; and, when ``bench/ui_monitors.py``
   is there, the monitors list (``measure_monitor_list``).
5. Print a table.
"""

from __future__ import annotations

import argparse
import importlib.util
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from decimal import Decimal
from pathlib import Path
from typing import Any

from benchlib import use_temporary_database  # beside this script: run as python bench/…

# bench/sla.py is named like the app: this folder goes last on the path, so that ``import sla``
# finds the app while ``ui_monitors`` (beside this script) is still found.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE] + [str(_HERE)]

NOW = datetime.now(UTC).replace(microsecond=0)
Row = tuple[str, float, int, int]  # what, median ms, bytes, SQL statements


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--sites", type=int, default=1000)
    parser.add_argument("--monitors", type=int, default=10_000)
    parser.add_argument("--changes", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--seed", type=int, default=1)
    return parser.parse_args()


def generate(args: argparse.Namespace) -> Any:
    """Write the portfolio (see the module docstring); returns the owner."""
    from django.contrib.auth.models import User
    from django.db import transaction

    from incidents.models import Incident, MaintenanceWindow
    from monitoring.models import CheckKind, Monitor, MonitorState, StateChange
    from sites.models import Site
    from sla.models import CarePlan, ClientPlan
    from tenancy.models import Client, Membership, Organization, Role

    rng = random.Random(args.seed)
    start = NOW - timedelta(days=60)
    with transaction.atomic():
        org = Organization.objects.create(name="Bench", slug="bench")
        owner = User.objects.create_user(username="owner", password="bench-password-9")
        Membership.objects.create(user=owner, organization=org, role=Role.OWNER)
        clients = Client.objects.bulk_create(
            Client(organization=org, name=f"Client {i:03}", slug=f"client-{i}")
            for i in range(args.clients)
        )
        plans = [
            CarePlan.objects.create(
                organization=org,
                name="Business hours",
                slug="business",
                availability_target=Decimal("99.5"),
                time_zone="Europe/Warsaw",
                business_hours={
                    day: "08:00-16:00"
                    for day in ("monday", "tuesday", "wednesday", "thursday", "friday")
                },
                holiday_country="PL",
                monthly_fee=Decimal(500),
                currency="PLN",
                credits=[{"below": "99.5", "percent": "10"}],
            ),
            CarePlan.objects.create(
                organization=org,
                name="Around the clock",
                slug="always",
                availability_target=Decimal("99.9"),
                time_zone="Europe/Warsaw",
                monthly_fee=Decimal(1000),
                currency="PLN",
                credits=[{"below": "99.9", "percent": "10"}],
            ),
        ]
        ClientPlan.objects.bulk_create(
            ClientPlan(client=client, plan=plans[i % 2], starts_on=None)
            for i, client in enumerate(clients)
        )
        for client in clients:
            MaintenanceWindow.objects.create(
                client=client,
                title="Updates",
                start_date=date(NOW.year - 1, 12, 6),
                start_time=clock(2),
                duration_minutes=60,
                rrule="FREQ=WEEKLY;BYDAY=SU",
            )
        sites = Site.objects.bulk_create(
            Site(
                client=clients[i % args.clients],
                name=f"Site {i:04}",
                slug=f"site-{i}",
                url=f"https://site-{i}.example",
                time_zone="Europe/Warsaw",
            )
            for i in range(args.sites)
        )
        down_now = set(rng.sample(range(args.monitors), args.monitors // 100))
        monitors = Monitor.objects.bulk_create(
            Monitor(
                site=sites[i % args.sites],
                name=f"Monitor {i:05}",
                kind=CheckKind.HTTP,
                url=f"https://{sites[i % args.sites].slug}.example/{i}",
                created_at=start,
                state=MonitorState.DOWN if i in down_now else MonitorState.UP,
                state_since=NOW - timedelta(minutes=30) if i in down_now else start,
                last_response_ms=rng.uniform(80, 900),
            )
            for i in range(args.monitors)
        )
        StateChange.objects.bulk_create(state_changes(rng, monitors, down_now, args), 5000)
        Incident.objects.bulk_create(
            Incident(monitor=monitors[i], opened_at=NOW - timedelta(minutes=30), message="down")
            for i in sorted(down_now)
        )
    return owner


def state_changes(
    rng: random.Random, monitors: list[Any], down_now: set[int], args: argparse.Namespace
) -> list[Any]:
    """First ``up`` at creation, then outages until each monitor has its share of changes."""
    from monitoring.models import StateChange

    per_monitor = args.changes // len(monitors)
    span = (NOW - timedelta(hours=1)) - (NOW - timedelta(days=60))
    changes = []
    for i, monitor in enumerate(monitors):
        created = monitor.created_at
        changes.append(
            StateChange(monitor=monitor, at=created, from_state="unknown", to_state="up")
        )
        outages = (per_monitor - 1) // 2
        starts = sorted(
            created + timedelta(minutes=5) + span * rng.random() for _ in range(outages)
        )
        end_of_last = created
        for at in starts:
            at = max(at, end_of_last + timedelta(minutes=1))
            back = at + timedelta(seconds=rng.randint(60, 90 * 60))
            changes.append(StateChange(monitor=monitor, at=at, from_state="up", to_state="down"))
            changes.append(StateChange(monitor=monitor, at=back, from_state="down", to_state="up"))
            end_of_last = back
        if i in down_now:
            changes.append(
                StateChange(
                    monitor=monitor,
                    at=NOW - timedelta(minutes=30),
                    from_state="up",
                    to_state="down",
                )
            )
    return changes


def measure(client: Any, url: str, runs: int) -> Row:
    """Median server time of ``runs`` requests after a warm-up, bytes and SQL statements."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    times = []
    for _ in range(runs):
        with CaptureQueriesContext(connection) as queries:
            began = time.perf_counter()
            response = client.get(url)
            times.append(time.perf_counter() - began)
    return url, statistics.median(times) * 1000, len(response.content), len(queries)


def refresh_standings() -> float | None:
    """Bring every client's stored standing up to date, if this sitecare keeps them."""
    if importlib.util.find_spec("sla.standings") is None:
        return None
    from sla import standings

    began = time.perf_counter()
    standings.refresh_all(now=NOW)
    return time.perf_counter() - began


def monitor_list_measurer() -> Callable[[Any], Any] | None:
    """``bench/ui_monitors.py``'s ``measure_monitor_list``, when that file is there."""
    if importlib.util.find_spec("ui_monitors") is None:
        return None
    from ui_monitors import measure_monitor_list

    measurer: Callable[[Any], Any] = measure_monitor_list
    return measurer


def main() -> None:
    args = parse_args()
    with tempfile.TemporaryDirectory() as directory:
        use_temporary_database(Path(directory))
        from django.test import Client as HttpClient

        began = time.perf_counter()
        owner = generate(args)
        print(
            f"generated {args.clients} clients, {args.sites} sites, {args.monitors} monitors, "
            f"~{args.changes} state changes in {time.perf_counter() - began:.1f} s"
        )
        refreshed = refresh_standings()
        if refreshed is not None:
            print(f"stored standings brought up to date in {refreshed:.1f} s (background work)")
        client = HttpClient(HTTP_HOST="localhost")  # one of the default ALLOWED_HOSTS
        client.force_login(owner)
        rows = [measure(client, url, args.runs) for url in ("/", "/sla/")]
        measurer = monitor_list_measurer()
        extra = measurer(client) if measurer is not None else None
    print()
    print("| page | median server time | bytes | SQL statements |")
    print("| --- | ---: | ---: | ---: |")
    for url, ms, size, queries in rows:
        print(f"| `{url}` | {ms:.0f} ms | {size:,} | {queries} |")
    if extra is not None:
        print()
        print("| monitors list (`/monitors/`) | median server time | bytes | SQL statements |")
        print("| --- | ---: | ---: | ---: |")
        for view, figures in extra.items():
            print(
                f"| {view} | {figures['median_ms']:.0f} ms | {figures['bytes']:,} "
                f"| {figures['queries']} |"
            )


if __name__ == "__main__":
    main()
