"""Probe engine throughput: N HTTP monitors on a local nginx, engine and target on separate cores.

Run by hand (not part of the test suite), as root or any user, on a 2-core machine::

    uv run python bench/engine.py --monitors 10000 --interval 30 --duration 120
    uv run python bench/engine.py --ceiling        # 2,000 monitors at 2 s + blackbox + raw wrk

Needs ``nginx`` (nginx-light), ``prometheus-blackbox-exporter`` and ``wrk`` from Debian::

    apt-get install -y nginx-light prometheus-blackbox-exporter wrk

1. Migrate a fresh SQLite database in a temporary directory (``SITECARE_VAR_DIR``); create one
   agency (allowlist ``127.0.0.0/8``), client and site, and N HTTP monitors in bulk, all on
   ``http://127.0.0.1:<port>/``.
2. Start nginx from a throwaway config (no daemon, ``access_log off``, a 12-byte static page,
   keep-alive on as Debian ships it, or off with ``--no-keepalive``) with ``taskset -c 0``.
   All monitors share one host, so with keep-alive on the engine's connection pool reuses
   connections; blackbox_exporter opens a new one per probe whatever nginx allows.
3. Run ``sitecare probe-engine --duration S`` with ``taskset -c 1`` (the engine alone on its
   core); scrape its ``/metrics`` every 2 s; read its CPU time and peak RSS from ``wait4``.
4. Count the stored results: checks/s achieved against N/I scheduled, and missed checks
   (monitors with fewer results than whole intervals in the steady window that starts one
   interval after the first check); schedule lag p50/p99 from the engine's
   ``sitecare_schedule_lag_seconds`` histogram (upper bucket bound); database growth.
5. With ``--ceiling`` (or ``--compare``): in the same run, blackbox_exporter (``GOMAXPROCS=1``,
   ``taskset -c 1``) driven by ``wrk -t1 -c64`` on ``/probe`` (wrk on core 0 beside nginx), and
   raw ``wrk -H "Connection: close"`` against nginx (wrk on core 1, where the prober ran).

Everything listens on 127.0.0.1 only; every process is killed (its process group) and the
temporary directory removed in ``finally`` blocks.
"""

from __future__ import annotations

import argparse
import itertools
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from benchlib import (  # beside this script: run as python bench/…
    cpu_seconds,
    free_port,
    lag_buckets,
    quantile,
    scrape,
    start,
    stop,
    use_temporary_database,
    wait_for_port,
)

TARGET_CORE = "0"
PROBER_CORE = "1"
TOOLS = {
    "nginx": "nginx-light",
    "prometheus-blackbox-exporter": "prometheus-blackbox-exporter",
    "wrk": "wrk",
    "taskset": "util-linux",
}

NGINX_CONF = """\
daemon off;
master_process off;
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/nginx-error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    keepalive_timeout {keepalive};
    client_body_temp_path {dir}/tmp;
    proxy_temp_path {dir}/tmp;
    fastcgi_temp_path {dir}/tmp;
    uwsgi_temp_path {dir}/tmp;
    scgi_temp_path {dir}/tmp;
    server {{
        listen 127.0.0.1:{port} backlog=4096;
        root {dir}/www;
        location / {{ index index.html; }}
    }}
}}
"""

BLACKBOX_CONF = """\
modules:
  http_2xx:
    prober: http
    timeout: 5s
    http:
      preferred_ip_protocol: ip4
"""


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--monitors", type=int, default=None, help="HTTP monitors (10000)")
    parser.add_argument("--interval", type=int, default=None, help="seconds between checks (30)")
    parser.add_argument("--duration", type=float, default=None, help="engine run, s (120)")
    parser.add_argument(
        "--ceiling",
        action="store_true",
        help="saturate the engine (2000 monitors at 2 s for 45 s) and compare with blackbox/wrk",
    )
    parser.add_argument("--compare", action="store_true", help="also run blackbox and raw wrk")
    parser.add_argument(
        "--no-keepalive",
        action="store_true",
        help="nginx closes every connection (the engine's pool cannot reuse them)",
    )
    parser.add_argument("--wrk-seconds", type=int, default=20, help="each wrk run (20)")
    parser.add_argument("--profile", type=Path, default=None, help="cProfile the engine to FILE")
    args = parser.parse_args()
    defaults = (2000, 2, 45.0) if args.ceiling else (10_000, 30, 120.0)
    args.monitors = args.monitors or defaults[0]
    args.interval = args.interval or defaults[1]
    args.duration = args.duration or defaults[2]
    args.compare = args.compare or args.ceiling
    if args.duration < 2 * args.interval + 5:
        parser.error("--duration must cover at least two intervals and the start-up")
    return args


def check_tools() -> None:
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        packages = " ".join(sorted({TOOLS[t] for t in missing}))
        sys.exit(f"missing {', '.join(missing)}: apt-get install -y {packages}")
    if (os.cpu_count() or 1) < 2:
        sys.exit("needs two cores (target on core 0, prober on core 1)")


def make_monitors(count: int, interval: int, url: str) -> int:
    """Create the monitors in bulk; the first one's id (the rest follow it)."""
    from monitoring.models import CheckKind, Monitor
    from sites.models import Site
    from tenancy.models import Client, Organization

    org = Organization.objects.create(name="Bench", slug="bench", ssrf_allowlist="127.0.0.0/8")
    client = Client.objects.create(organization=org, name="Client", slug="client")
    site = Site.objects.create(client=client, name="Target", slug="target", url=url)
    Monitor.objects.bulk_create(
        (
            Monitor(site=site, name=f"m{i}", kind=CheckKind.HTTP, url=url, interval_s=interval)
            for i in range(count)
        ),
        batch_size=1000,
    )
    first: int = Monitor.objects.order_by("id").values_list("id", flat=True)[0]
    return first


def db_bytes(database: Path) -> int:
    return sum(p.stat().st_size for p in database.parent.glob(database.name + "*") if p.is_file())


@dataclass
class Stored:
    rows: int
    failures: int
    failure_classes: dict[str, int]
    window_s: float
    window_rows: int
    whole_intervals: int
    missed_monitors: int
    missed_checks: int
    first_to_last_s: float


def count_results(interval: int, monitors: int, first_id: int) -> Stored:
    """Rows stored, and the checks missing from the steady window.

    The first check of each monitor falls anywhere in its first interval (the engine's
    jitter); after that every monitor is due once per interval at a fixed phase. The steady
    rate counts the rows in the whole intervals after the first one; a missed check is a gap
    of more than 1.5 intervals in a monitor's results.
    """
    from django.db.models import Count, Max, Min

    from monitoring.models import CheckResult

    results = CheckResult.objects.all()
    span = results.aggregate(first=Min("checked_at"), last=Max("checked_at"), n=Count("id"))
    rows = span["n"]
    failing = results.filter(ok=False)
    classes = dict(
        failing.values_list("failure_class")
        .annotate(n=Count("id"))
        .values_list("failure_class", "n")
    )
    if not rows:
        return Stored(0, 0, {}, 0.0, 0, 0, monitors, 0, 0.0)
    first, last = span["first"], span["last"]
    start = first + timedelta(seconds=interval)
    whole = int((last - start).total_seconds() // interval)
    end = start + timedelta(seconds=whole * interval)
    in_window = results.filter(checked_at__gte=start, checked_at__lt=end)
    per_monitor = dict(in_window.values_list("monitor_id").annotate(n=Count("id")))
    # A gap longer than 1.5 intervals between two checks of a monitor is a missed check; so is
    # a first check later than 1.5 intervals after the run's first, or a last one earlier than
    # 1.5 intervals before the run's last.
    times: dict[int, list[float]] = {}
    for monitor_id, at in results.order_by("checked_at").values_list("monitor_id", "checked_at"):
        times.setdefault(monitor_id, []).append(at.timestamp())
    missed_monitors = missed_checks = 0
    origin, final = first.timestamp(), last.timestamp()
    for monitor_id in range(first_id, first_id + monitors):
        marks = [origin, *times.get(monitor_id, []), final]
        gaps = [(a, b - a) for a, b in itertools.pairwise(marks) if b - a > 1.5 * interval]
        short = sum(round(gap / interval) - 1 or 1 for _a, gap in gaps)
        if short > 0:
            missed_monitors += 1
            missed_checks += short
            if missed_monitors <= 5:
                where = ", ".join(f"{gap:.1f} s gap at +{a - origin:.1f} s" for a, gap in gaps)
                print(f"  missed: monitor {monitor_id}: {where}", file=sys.stderr)
    return Stored(
        rows=rows,
        failures=sum(classes.values()),
        failure_classes=classes,
        window_s=whole * interval,
        window_rows=sum(per_monitor.values()),
        whole_intervals=whole,
        missed_monitors=missed_monitors,
        missed_checks=missed_checks,
        first_to_last_s=(last - first).total_seconds(),
    )


# --- the engine --------------------------------------------------------------------------------


@dataclass
class EngineRun:
    wall_s: float
    cpu_s: float
    peak_rss_kib: int
    steady_cpu_s: float
    steady_wall_s: float
    metrics: str
    exit_code: int
    lag_counts: list[tuple[float, float]] = field(default_factory=list)


def run_engine(args: argparse.Namespace, directory: Path) -> EngineRun:
    """Run ``sitecare probe-engine`` on the prober core; its CPU, peak RSS and last metrics."""
    metrics_port = free_port()
    env = dict(os.environ, SITECARE_ENGINE_METRICS_PORT=str(metrics_port))
    python = [sys.executable]
    if args.profile:
        python += ["-m", "cProfile", "-o", str(args.profile.resolve())]
    command = ["taskset", "-c", PROBER_CORE, *python, "-m", "sitecare.cli", "probe-engine"]
    command += ["--duration", str(args.duration)]
    began = time.monotonic()
    process = start(command, directory / "engine.log", env)
    last_metrics = ""
    steady_at: float | None = None
    steady_cpu = 0.0
    last_cpu = 0.0
    last_seen = began
    usage = None
    status = 0
    try:
        while usage is None:
            time.sleep(2.0)
            body = scrape(metrics_port)
            try:
                cpu = cpu_seconds(process.pid)
            except (FileNotFoundError, ProcessLookupError):
                cpu = last_cpu
            now = time.monotonic()
            if body:
                last_metrics = body
                last_cpu, last_seen = cpu, now
                # The steady window starts one interval after the engine first served metrics.
                if steady_at is None:
                    steady_at = now + args.interval
                elif now >= steady_at and not steady_cpu:
                    steady_cpu, steady_at = cpu, now
            if now - began > args.duration + 120:
                raise RuntimeError("the engine did not stop in time")
            # wait4, not poll(): the reaped child's rusage is its CPU time and peak RSS.
            pid, status, rusage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                usage = rusage
        if usage is None:
            _pid, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
    finally:
        stop(process)
    wall = time.monotonic() - began
    steady_wall = last_seen - steady_at if steady_at and steady_cpu else 0.0
    return EngineRun(
        wall_s=wall,
        cpu_s=usage.ru_utime + usage.ru_stime,
        peak_rss_kib=usage.ru_maxrss,
        steady_cpu_s=last_cpu - steady_cpu if steady_cpu else 0.0,
        steady_wall_s=steady_wall,
        metrics=last_metrics,
        exit_code=process.returncode,
        lag_counts=lag_buckets(last_metrics),
    )


# --- the comparisons ---------------------------------------------------------------------------


@dataclass
class WrkRun:
    label: str
    rate: float
    requests: int
    errors: str
    prober_cpu_ms: float | None


def wrk(
    label: str, core: str, url: str, seconds: int, extra: list[str], watch: int | None = None
) -> WrkRun:
    """Run wrk pinned to a core; its rate, and the CPU a watched process spent meanwhile."""
    command = ["taskset", "-c", core, "wrk", "-t1", "-c64", f"-d{seconds}s", *extra, url]
    before = cpu_seconds(watch) if watch else 0.0
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 30)
    spent = cpu_seconds(watch) - before if watch else 0.0
    out = done.stdout
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    total = re.search(r"(\d+) requests in", out)
    problems = [line.strip() for line in out.splitlines() if "errors" in line or "Non-2xx" in line]
    requests = int(total.group(1)) if total else 0
    return WrkRun(
        label=label,
        rate=float(rate.group(1)) if rate else 0.0,
        requests=requests,
        errors="; ".join(problems) or "none",
        prober_cpu_ms=spent * 1000 / requests if watch and requests else None,
    )


def blackbox(directory: Path, target: str, seconds: int) -> WrkRun:
    config = directory / "blackbox.yml"
    config.write_text(BLACKBOX_CONF)
    port = free_port()
    env = dict(os.environ, GOMAXPROCS="1")
    command = ["taskset", "-c", PROBER_CORE, "prometheus-blackbox-exporter"]
    command += [f"--config.file={config}", f"--web.listen-address=127.0.0.1:{port}"]
    process = start(command, directory / "blackbox.log", env)
    try:
        wait_for_port(port)
        url = f"http://127.0.0.1:{port}/probe?target={target}&module=http_2xx"
        check = urllib.request.urlopen(url, timeout=5).read().decode()
        if "probe_success 1" not in check:
            raise RuntimeError(f"blackbox probe fails: {check[-300:]}")
        # wrk beside nginx on the target core: the prober core holds only the exporter.
        return wrk("blackbox_exporter /probe", TARGET_CORE, url, seconds, [], watch=process.pid)
    finally:
        stop(process)


# --- the report --------------------------------------------------------------------------------


def fmt_lag(value: float | None) -> str:
    return "n/a" if value is None else f"≤ {value * 1000:g} ms"


def report(
    args: argparse.Namespace,
    run: EngineRun,
    stored: Stored,
    growth: tuple[int, int],
    others: list[WrkRun],
) -> None:
    scheduled = args.monitors / args.interval
    window_rate = stored.window_rows / stored.window_s if stored.window_s else 0.0
    p50, p99 = quantile(run.lag_counts, 0.5), quantile(run.lag_counts, 0.99)
    over_1s = 0.0
    if run.lag_counts and run.lag_counts[-1][1]:
        within = dict(run.lag_counts).get(1.0, 0.0)
        over_1s = 1 - within / run.lag_counts[-1][1]
    cpu_ms = run.cpu_s * 1000 / stored.rows if stored.rows else 0.0
    steady_share = run.steady_cpu_s / run.steady_wall_s if run.steady_wall_s else 0.0
    steady_ms = run.steady_cpu_s * 1000 / (window_rate * run.steady_wall_s) if window_rate else 0
    before, after = growth
    print(f"{args.monitors} HTTP monitors at {args.interval} s, engine run {args.duration:g} s")
    print(f"  engine exit code             {run.exit_code}, wall {run.wall_s:.1f} s")
    print(f"  checks/s scheduled           {scheduled:,.1f}")
    whole_rate = stored.rows / args.duration
    print(f"  checks/s stored (whole run)  {whole_rate:,.1f}  ({stored.rows:,} rows)")
    print(
        f"  checks/s stored (steady)     {window_rate:,.1f}  "
        f"({stored.whole_intervals} whole intervals, {stored.window_s:g} s)"
    )
    print(
        f"  missed checks (gaps > 1.5 I) {stored.missed_checks:,} "
        f"on {stored.missed_monitors:,} monitors"
    )
    print(f"  failed checks                {stored.failures:,} {stored.failure_classes or ''}")
    print(f"  schedule lag p50 / p99       {fmt_lag(p50)} / {fmt_lag(p99)}  (>1 s: {over_1s:.2%})")
    print(f"  engine CPU, whole run        {run.cpu_s:.1f} s = {cpu_ms:.3f} ms per stored check")
    print(
        f"  engine CPU, steady window    {steady_share:.1%} of a core, "
        f"{steady_ms:.3f} ms per stored check"
    )
    print(f"  peak RSS (VmHWM)             {run.peak_rss_kib / 1024:.1f} MiB")
    print(
        f"  database                     {before / 2**20:.1f} → {after / 2**20:.1f} MiB "
        f"(+{(after - before) / 2**20:.1f} MiB, "
        f"{(after - before) / max(stored.rows, 1):.0f} B/check)"
    )
    if not others:
        return
    print("side by side (same run, same nginx; prober on core 1)")
    for other in others:
        cpu = f", {other.prober_cpu_ms:.3f} ms CPU per probe" if other.prober_cpu_ms else ""
        print(f"  {other.label:<30} {other.rate:,.1f}/s{cpu}  errors: {other.errors}")
    bb = next((o for o in others if o.label.startswith("blackbox")), None)
    if bb and bb.rate and bb.prober_cpu_ms:
        per_core = 1000 / steady_ms if steady_ms else 0.0
        bb_core = 1000 / bb.prober_cpu_ms
        print(
            f"  sitecare / blackbox          {window_rate / bb.rate:.2f}× by rate, "
            f"{per_core / bb_core:.2f}× per core-second ({per_core:,.0f} vs {bb_core:,.0f})"
        )


def main() -> None:
    args = parse_args()
    check_tools()
    # This script only sleeps and counts; it stays off the prober core.
    os.sched_setaffinity(0, {int(TARGET_CORE)})
    directory = Path(tempfile.mkdtemp(prefix="sitecare-bench-engine-"))
    nginx: subprocess.Popen | None = None
    try:
        (directory / "www").mkdir()
        (directory / "tmp").mkdir()
        (directory / "www" / "index.html").write_text("sitecare ok\n")
        port = free_port()
        keepalive = 0 if args.no_keepalive else 75
        conf = NGINX_CONF.format(dir=directory, port=port, keepalive=keepalive)
        (directory / "nginx.conf").write_text(conf)
        nginx = start(
            [
                *("taskset", "-c", TARGET_CORE, "nginx"),
                *("-e", str(directory / "nginx-error.log")),
                *("-p", str(directory), "-c", "nginx.conf"),
            ],
            directory / "nginx.log",
        )
        wait_for_port(port)
        target = f"http://127.0.0.1:{port}/"
        database = use_temporary_database(directory)
        first_id = make_monitors(args.monitors, args.interval, target)
        from django.db import connections

        connections.close_all()
        before = db_bytes(database)
        run = run_engine(args, directory)
        after = db_bytes(database)
        stored = count_results(args.interval, args.monitors, first_id)
        connections.close_all()
        others: list[WrkRun] = []
        if args.compare:
            others.append(blackbox(directory, target, args.wrk_seconds))
            others.append(
                wrk(
                    "raw wrk, Connection: close",
                    PROBER_CORE,
                    target,
                    args.wrk_seconds,
                    ["-H", "Connection: close"],
                )
            )
        report(args, run, stored, (before, after), others)
        if run.exit_code:
            print((directory / "engine.log").read_text()[-2000:], file=sys.stderr)
    finally:
        stop(nginx)
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
