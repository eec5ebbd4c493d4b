"""Capacity: transaction monitors at a 10-minute interval beside 10,000 HTTP monitors at 60 s.

The question: how many transaction monitors can this machine carry while the probe engine
still starts its HTTP checks on time (schedule lag p99 < 1 s) and every transaction runs in
its turn? Trials with different numbers of transaction monitors run one after another in the
same run, against the same nginx and demo shop, so their figures compare.

Run by hand (not part of the test suite); needs nginx (``apt-get install -y nginx-light``)::

    uv run python bench/browser_capacity.py                      # 0, 200 and 300 transactions
    uv run python bench/browser_capacity.py --transactions 0,200 --window 300 --warm-up 200

1. Migrate a fresh SQLite database in a temporary directory; one agency (allowlist
   ``127.0.0.0/8``), client and site; ``--http`` HTTP monitors at 60 s on a local nginx
   (a 12-byte static page, as bench/engine.py).
2. Start nginx and the demo shop (``sitecare demo-site``), then for each trial: create its
   transaction monitors (the demo's five-step add-to-cart-and-checkout transaction at 600 s,
   phases spread over the interval by the scheduler), start ``sitecare probe-engine`` and
   ``sitecare job-runner`` (its defaults: one browser worker per core), wait ``--warm-up``
   seconds (the trial's monitors are new, so their first checks all come due at once: the
   warm-up lets that burst drain), then measure for ``--window`` seconds.
3. HTTP: schedule lag p50/p99 over the window, from the difference of the engine's
   ``sitecare_schedule_lag_seconds`` histogram at the window's start and end (bucket bounds).
4. Transactions: checks due in the window (their jobs' scheduled times), run, passed; how late
   they started (job start − scheduled time, p50/p99/max); CPU of the engine and of the job
   runner's tree over the window.
5. Stop both loops, delete the trial's transaction monitors and jobs, next trial.

Everything listens on 127.0.0.1 only; every process is stopped (its process group) and the
temporary directory removed at the end.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchlib import (  # beside this script: run as python bench/…
    DEMO_FIVE_STEPS,
    ROOT,
    free_port,
    lag_buckets,
    quantile,
    scrape,
    start,
    stop,
    tree_cpu_seconds,
    use_temporary_database,
    wait_for_port,
)

NGINX_CONF = """worker_processes 1;
daemon off;
pid {dir}/nginx.pid;
error_log {dir}/nginx-error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    server {{
        listen 127.0.0.1:{port};
        location = / {{ return 200 "sitecare ok\\n"; }}
    }}
}}
"""


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--http", type=int, default=10_000, help="HTTP monitors at 60 s")
    parser.add_argument("--transactions", default="0,200,300", help="trials, comma-separated")
    parser.add_argument("--interval", type=int, default=600, help="transactions' interval (s)")
    parser.add_argument(
        "--warm-up",
        type=float,
        default=200.0,
        help="seconds before measuring (new monitors' first checks all come due at once)",
    )
    parser.add_argument("--window", type=float, default=300.0, help="seconds measured")
    return parser.parse_args()


@dataclass
class Trial:
    transactions: int
    lag_p50: float | None
    lag_p99: float | None
    http_checks: float
    due: int
    ran: int
    stored: int
    passed: int
    late_p50: float | None
    late_p99: float | None
    late_max: float | None
    engine_cpu: float
    runner_cpu: float
    window: float


def make_world(http: int, nginx_port: int) -> Any:
    from django.utils import timezone

    from monitoring.models import CheckKind, Monitor
    from sites.models import Site
    from tenancy.models import Client, Organization

    org = Organization.objects.create(name="Bench", slug="bench", ssrf_allowlist="127.0.0.0/8")
    client = Client.objects.create(organization=org, name="Shop", slug="shop")
    site = Site.objects.create(client=client, name="Shop", slug="shop", url="http://127.0.0.1/")
    now = timezone.now()
    Monitor.objects.bulk_create(
        (
            Monitor(
                site=site,
                name=f"http {i}",
                kind=CheckKind.HTTP,
                url=f"http://127.0.0.1:{nginx_port}/",
                interval_s=60,
                timeout_s=10,
                created_at=now,
            )
            for i in range(http)
        ),
        batch_size=1000,
    )
    return site


def add_transactions(site: Any, count: int, interval: int, shop_url: str) -> None:
    from monitoring.models import CheckKind, Monitor

    for i in range(count):
        Monitor.objects.create(
            site=site,
            name=f"purchase {i}",
            kind=CheckKind.TRANSACTION,
            url=shop_url,
            interval_s=interval,
            timeout_s=30,
            config={"steps": DEMO_FIVE_STEPS, "step_timeout": 10},
        )


def clear_transactions() -> None:
    from jobs.models import Job
    from monitoring.models import CheckKind, Monitor

    Monitor.objects.filter(kind=CheckKind.TRANSACTION).delete()
    Job.objects.all().delete()


def histogram_difference(
    before: list[tuple[float, float]], after: list[tuple[float, float]]
) -> list[tuple[float, float]]:
    earlier = dict(before)
    return [(bound, count - earlier.get(bound, 0.0)) for bound, count in after]


def transaction_figures(since: datetime, until: datetime) -> tuple[int, int, int, int, list[float]]:
    """Checks scheduled in the window (due, run, how late each started, s) and the results
    stored in it (all, passed)."""
    from jobs.models import Job, JobState
    from monitoring.models import CheckResult

    due = ran = 0
    late: list[float] = []
    for job in Job.objects.filter(function="monitoring.browser_check"):
        scheduled = datetime.fromisoformat(job.payload["scheduled"])
        if not since <= scheduled < until:
            continue
        due += 1
        if job.started_at is not None:
            late.append((job.started_at - scheduled).total_seconds())
        if job.state == JobState.DONE:
            ran += 1
    stored = CheckResult.objects.filter(
        monitor__kind="transaction", checked_at__gte=since, checked_at__lt=until
    )
    return due, ran, stored.count(), stored.filter(ok=True).count(), sorted(late)


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    return values[min(len(values) - 1, int(q * len(values)))]


def run_trial(
    args: argparse.Namespace, directory: Path, site: Any, count: int, shop_url: str
) -> Trial:
    add_transactions(site, count, args.interval, shop_url)
    metrics_port = free_port()
    env = dict(os.environ, SITECARE_ENGINE_METRICS_PORT=str(metrics_port))
    cli = [sys.executable, "-m", "sitecare.cli"]
    engine = start([*cli, "probe-engine"], directory / f"engine-{count}.log", env)
    runner = start([*cli, "job-runner"], directory / f"runner-{count}.log", env)
    try:
        time.sleep(args.warm_up)
        before = lag_buckets(scrape(metrics_port) or "")
        checks_before = http_checks(scrape(metrics_port) or "")
        engine_cpu, runner_cpu = tree_cpu_seconds(engine.pid), tree_cpu_seconds(runner.pid)
        since = datetime.now(UTC)
        time.sleep(args.window)
        until = datetime.now(UTC)
        metrics = scrape(metrics_port) or ""
        engine_cpu = tree_cpu_seconds(engine.pid) - engine_cpu
        runner_cpu = tree_cpu_seconds(runner.pid) - runner_cpu
        time.sleep(min(60.0, args.window / 5))  # the window's last checks finish
    finally:
        stop(runner)
        stop(engine)
    lags = histogram_difference(before, lag_buckets(metrics))
    due, ran, stored, passed, late = transaction_figures(since, until)
    trial = Trial(
        transactions=count,
        lag_p50=quantile(lags, 0.5),
        lag_p99=quantile(lags, 0.99),
        http_checks=http_checks(metrics) - checks_before,
        due=due,
        ran=ran,
        stored=stored,
        passed=passed,
        late_p50=percentile(late, 0.5),
        late_p99=percentile(late, 0.99),
        late_max=late[-1] if late else None,
        engine_cpu=engine_cpu,
        runner_cpu=runner_cpu,
        window=args.window,
    )
    clear_transactions()
    return trial


def http_checks(metrics: str) -> float:
    total = 0.0
    for line in metrics.splitlines():
        if line.startswith("sitecare_checks_total{") and 'kind="http"' in line:
            total += float(line.rsplit(" ", 1)[1])
    return total


def shown(value: float | None, unit: str = " s") -> str:
    return "-" if value is None else f"{value:g}{unit}"


def report(args: argparse.Namespace, trials: list[Trial]) -> None:
    print(
        f"{args.http} HTTP monitors at 60 s; transactions at {args.interval} s; measured for "
        f"{args.window:.0f} s after {args.warm_up:.0f} s of warm-up; SQLite; one machine"
    )
    print(
        "| transactions | HTTP checks/s | HTTP lag p50 | HTTP lag p99 | transactions due | run "
        "| results stored (passed) | start late p50 / p99 / max | engine CPU | job runner CPU |"
    )
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for t in trials:
        print(
            f"| {t.transactions} | {t.http_checks / t.window:.0f} | {shown(t.lag_p50)} "
            f"| {shown(t.lag_p99)} | {t.due} | {t.ran} | {t.stored} ({t.passed}) "
            f"| {shown(t.late_p50)} / {shown(t.late_p99)} / {shown(t.late_max)} "
            f"| {t.engine_cpu / t.window * 100:.0f} % | {t.runner_cpu / t.window * 100:.0f} % |"
        )


def main() -> None:
    args = parse_args()
    if not shutil.which("nginx"):
        sys.exit("needs nginx: apt-get install -y nginx-light")
    directory = Path(tempfile.mkdtemp(prefix="bench-capacity-"))
    use_temporary_database(directory)
    nginx_port, shop_port = free_port(), free_port()
    (directory / "nginx.conf").write_text(NGINX_CONF.format(dir=directory, port=nginx_port))
    nginx = shop = None
    try:
        nginx = start(
            [
                "nginx",
                "-e",
                str(directory / "nginx-error.log"),
                "-p",
                str(directory),
                "-c",
                "nginx.conf",
            ],
            directory / "nginx.log",
        )
        env = dict(os.environ, SITECARE_DEMO_PORT=str(shop_port))
        shop = start(
            [sys.executable, "-m", "sitecare.cli", "demo-site", "--port", str(shop_port)],
            directory / "shop.log",
            env,
        )
        wait_for_port(nginx_port)
        wait_for_port(shop_port, 30)
        site = make_world(args.http, nginx_port)
        trials = [
            run_trial(args, directory, site, int(count), f"http://127.0.0.1:{shop_port}/")
            for count in args.transactions.split(",")
        ]
        report(args, trials)
    finally:
        stop(shop)
        stop(nginx)
        subprocess.run(["rm", "-rf", str(directory)], check=False)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
