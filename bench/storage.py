"""Bytes per monitor-month: one monitor checked every 60 s for 30 days, stored as the engine does.

Run by hand (not part of the test suite)::

    uv run python bench/storage.py [--days 30] [--interval 60] [--batch 10] [--failure-rate 0.005]

1. Point sitecare at a fresh SQLite database in a temporary directory and migrate it.
2. Feed one HTTPS monitor's results (log-normal response times around 120 ms, a few
   failures in short outages, DNS/connect/TLS/TTFB timings) through ``record_results`` in
   small batches, as the engine's flushes do.
3. VACUUM, then read each table's and index's pages from SQLite's ``dbstat`` table and print
   bytes per monitor-month for raw results (what 30 days of retention hold) and for the hourly
   rollups and state changes (what is kept forever).
"""

from __future__ import annotations

import argparse
import math
import random
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from benchlib import use_temporary_database  # beside this script: run as python bench/…

START = datetime(2026, 1, 1, tzinfo=UTC)
TABLES = {
    "raw results": "monitoring_checkresult",
    "hourly rollups": "monitoring_hourlyrollup",
    "state changes": "monitoring_statechange",
}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=30, help="days simulated (default 30)")
    parser.add_argument("--interval", type=int, default=60, help="check interval in seconds")
    parser.add_argument("--batch", type=int, default=10, help="results per record_results call")
    parser.add_argument("--failure-rate", type=float, default=0.005, help="share of failures")
    parser.add_argument("--seed", type=int, default=1)
    return parser.parse_args()


def make_monitor() -> int:
    """One organization, client, site and HTTPS monitor; the monitor's id."""
    from monitoring.models import CheckKind, Monitor
    from sites.models import Site
    from tenancy.models import Client, Organization

    org = Organization.objects.create(name="Bench", slug="bench")
    client = Client.objects.create(organization=org, name="Client", slug="client")
    site = Site.objects.create(client=client, name="Shop", slug="shop", url="https://shop.test")
    monitor = Monitor.objects.create(
        site=site, name="Home", kind=CheckKind.HTTP, url="https://shop.test/", interval_s=60
    )
    return monitor.pk


def outcomes(monitor_id: int, args: argparse.Namespace) -> Iterator[object]:
    """The month's results in time order; failures come in outages of 1–5 checks."""
    from monitoring.failures import FailureClass
    from monitoring.logic import Outcome

    rng = random.Random(args.seed)
    count = args.days * 86_400 // args.interval
    outage_left = 0
    for i in range(count):
        at = START + timedelta(seconds=i * args.interval)
        if outage_left == 0 and rng.random() < args.failure_rate / 3:
            outage_left = rng.randint(1, 5)
        if outage_left:
            outage_left -= 1
            yield Outcome(
                monitor_id,
                at,
                ok=False,
                failure_class=FailureClass.TIMEOUT,
                message="The server did not answer within 10 s (waiting for the first byte).",
                dns_ms=round(rng.uniform(1, 5), 1),
                connect_ms=round(rng.uniform(5, 20), 1),
            )
            continue
        total = round(rng.lognormvariate(math.log(120), 0.35), 1)
        yield Outcome(
            monitor_id,
            at,
            ok=True,
            status_code=200,
            response_ms=total,
            dns_ms=round(total * 0.03, 1),
            connect_ms=round(total * 0.1, 1),
            tls_ms=round(total * 0.2, 1),
            ttfb_ms=round(total * 0.8, 1),
        )


def feed(monitor_id: int, args: argparse.Namespace) -> int:
    """Store the results through ``record_results`` in batches; the count stored."""
    from monitoring.logic import record_results

    batch: list = []
    stored = 0
    for outcome in outcomes(monitor_id, args):
        batch.append(outcome)
        if len(batch) >= args.batch:
            record_results(batch)
            stored += len(batch)
            batch = []
    record_results(batch)
    return stored + len(batch)


def table_bytes(database: Path) -> dict[str, tuple[int, int, int]]:
    """Per table, after a VACUUM: rows, bytes of its pages and bytes used in them (indexes
    included). Used bytes leave out the free tail of half-filled pages, so they scale with
    the number of monitors where a lone monitor's page count does not.
    """
    import sqlite3

    with sqlite3.connect(database) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db.execute("VACUUM")
        owners = dict(db.execute("SELECT name, tbl_name FROM sqlite_master"))
        sizes: dict[str, tuple[int, int, int]] = {}
        pages = "SELECT name, SUM(pgsize), SUM(pgsize - unused) FROM dbstat GROUP BY name"
        for name, size, used in db.execute(pages):
            table = owners.get(name, name)
            rows, old_size, old_used = sizes.get(table, (0, 0, 0))
            sizes[table] = (rows, old_size + size, old_used + used)
        for table, (_rows, size, used) in sizes.items():
            if table in TABLES.values():
                (rows,) = db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()
                sizes[table] = (rows, size, used)
    return sizes


def report(
    sizes: dict[str, tuple[int, int, int]], stored: int, args: argparse.Namespace, seconds: float
) -> None:
    """Print the figures scaled to a 30-day month."""
    month = 30 / args.days
    print(f"{stored} results of one monitor at {args.interval} s over {args.days} days")
    print(f"stored in {seconds:.1f} s through record_results, {args.batch} per batch")
    print(f"{'':>15}  {'rows':>7}  {'KiB pages':>9}  {'KiB used':>8}  {'B/row':>5}  (per month)")
    for label, table in TABLES.items():
        rows, size, used = sizes.get(table, (0, 0, 0))
        per_row = used / rows if rows else 0.0
        print(
            f"{label:>15}  {rows * month:7.0f}  {size * month / 1024:9.1f}  "
            f"{used * month / 1024:8.1f}  {per_row:5.0f}"
        )


def main() -> None:
    args = parse_args()
    with tempfile.TemporaryDirectory(prefix="sitecare-bench-") as directory:
        database = use_temporary_database(Path(directory))
        monitor_id = make_monitor()
        started = time.perf_counter()
        stored = feed(monitor_id, args)
        seconds = time.perf_counter() - started
        from django.db import connections

        connections.close_all()
        report(table_bytes(database), stored, args, seconds)


if __name__ == "__main__":
    main()
