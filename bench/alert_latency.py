"""Alert latency: from the moment a local target starts failing to the moment a local webhook
receiver gets the "down" alert, through the real probe engine and alert sender.

Run by hand (not part of the test suite)::

    uv run python bench/alert_latency.py                            # 20 outages on 5 monitors
    uv run python bench/alert_latency.py --outages 4 --monitors 2   # a quick check that it works

1. Migrate a throwaway SQLite database in a temporary directory; create one agency (allowlist
   ``127.0.0.0/8``; flap detection off, since outages here follow each other on purpose), one
   client and site, M HTTP monitors (interval 30 s, confirm_down 2, recheck 10 s, confirm_up
   1, timeout 5 s), each on its own path of one local target server, and one ``json://``
   channel to a local webhook receiver (its title template ``{state}|{monitor}`` tells the
   receiver whose alert it is).
2. Start ``sitecare probe-engine`` and ``sitecare alert-sender`` as subprocesses, as
   ``sitecare run`` does, and wait until every monitor is up.
3. For each monitor, in parallel: wait a random 0–interval (so outages begin at every phase of
   the check schedule), break its path (503 from then on), note the time, wait for its down
   alert at the receiver; repair it, wait for its up alert; again until the outages are done.
4. Print p50/p90/p99/max of "target starts failing → receiver has the down alert" against
   the goal: interval + (confirm_down − 1) × recheck pace + 2 s.

Everything listens on 127.0.0.1 only; the child processes are killed (their process groups)
and the temporary directory removed in ``finally`` blocks.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from benchlib import start, stop, use_temporary_database  # beside this script: python bench/…

CONFIRM_DOWN = 2
RECHECK = 10


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--outages", type=int, default=20, help="outages in all (20)")
    parser.add_argument("--monitors", type=int, default=5, help="monitors run in parallel (5)")
    parser.add_argument("--interval", type=int, default=30, help="check interval, s (30)")
    parser.add_argument("--seed", type=int, default=None, help="random seed of the phases")
    args = parser.parse_args()
    if args.outages < 1 or args.monitors < 1 or args.interval < 10:
        parser.error("needs --outages ≥ 1, --monitors ≥ 1, --interval ≥ 10")
    return args


class Target:
    """One HTTP server; ``/m/<n>`` answers 200, or 503 while monitor n is broken."""

    def __init__(self) -> None:
        self.broken: set[str] = set()
        target = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                code = 503 if self.path.rstrip("/").split("/")[-1] in target.broken else 200
                body = b"broken\n" if code == 503 else b"ok\n"
                self.send_response(code)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])


@dataclass
class Receiver:
    """The webhook receiver: the arrival time of each (state, monitor) alert, in order."""

    arrivals: list[tuple[str, str, float]] = field(default_factory=list)
    changed: threading.Condition = field(default_factory=threading.Condition)

    def start(self) -> ThreadingHTTPServer:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                arrived = time.time()
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                state, _sep, monitor = json.loads(body)["title"].partition("|")
                with receiver.changed:
                    receiver.arrivals.append((state, monitor, arrived))
                    receiver.changed.notify_all()
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server

    def wait(self, state: str, monitor: str, after: float, timeout: float) -> float | None:
        """The arrival time of the first such alert after ``after``; None on timeout."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while True:
                for got_state, got_monitor, at in self.arrivals:
                    if (got_state, got_monitor) == (state, monitor) and at >= after:
                        return at
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.changed.wait(left)


def make_world(monitors: int, interval: int, target_port: int, receiver_port: int) -> None:
    """The agency, its monitors and its one channel (imports here: Django is set up first)."""
    from incidents.models import Channel
    from monitoring.models import CheckKind, Monitor
    from sites.models import Site
    from tenancy.models import Client, Organization

    org = Organization.objects.create(
        name="Bench", slug="bench", ssrf_allowlist="127.0.0.0/8", flap_window_seconds=0
    )
    client = Client.objects.create(organization=org, name="Client", slug="client")
    site = Site.objects.create(client=client, name="Shop", slug="shop")
    for n in range(monitors):
        Monitor.objects.create(
            site=site,
            name=f"m{n}",
            kind=CheckKind.HTTP,
            url=f"http://127.0.0.1:{target_port}/m/m{n}",
            interval_s=interval,
            timeout_s=5,
            confirm_down=CONFIRM_DOWN,
            confirm_up=1,
            recheck_s=RECHECK,
        )
    Channel.objects.create(
        organization=org,
        name="Receiver",
        url=f"json://127.0.0.1:{receiver_port}/alerts",
        title_template="{state}|{monitor}",
    )


def wait_all_up(monitors: int, seconds: float) -> None:
    from django.db import connections

    from monitoring.models import Monitor, MonitorState

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if Monitor.objects.filter(state=MonitorState.UP).count() == monitors:
            connections.close_all()
            return
        time.sleep(0.5)
    raise RuntimeError("the monitors did not come up: see engine.log")


@dataclass
class Run:
    latencies: list[float] = field(default_factory=list)
    missed: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def outages_of(
    name: str, count: int, args: argparse.Namespace, kit: tuple[Target, Receiver], run: Run
) -> None:
    """Break and repair one monitor's path ``count`` times, timing each down alert."""
    target, receiver = kit
    rng = random.Random(f"{args.seed}-{name}" if args.seed is not None else None)
    patience = args.interval + 3 * RECHECK + 30
    for _ in range(count):
        time.sleep(rng.uniform(0, args.interval))
        broke_at = time.time()
        target.broken.add(name)
        down_at = receiver.wait("down", name, broke_at, patience)
        target.broken.discard(name)
        with run.lock:
            if down_at is None:
                run.missed += 1
            else:
                run.latencies.append(down_at - broke_at)
        if receiver.wait("up", name, broke_at, patience) is None:
            with run.lock:
                run.missed += 1


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (no interpolation: with 20 values p99 is the maximum)."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(q * len(ordered) + 0.5) - 1))]


def report(args: argparse.Namespace, run: Run, wall: float) -> None:
    pace = min(RECHECK, args.interval / (2 * (CONFIRM_DOWN - 1)))
    goal = args.interval + (CONFIRM_DOWN - 1) * pace + 2
    values = run.latencies
    print(f"outages: {len(values)} timed, {run.missed} missed, {wall:.0f} s wall")
    print(
        f"monitors: {args.monitors} in parallel, interval {args.interval} s, "
        f"confirm_down {CONFIRM_DOWN}, recheck {RECHECK} s (pace {pace:g} s)"
    )
    if values:
        print(
            "target fails → down alert at the receiver: "
            f"min {min(values):.1f} s, p50 {percentile(values, 0.5):.1f} s, "
            f"p90 {percentile(values, 0.9):.1f} s, p99 {percentile(values, 0.99):.1f} s, "
            f"max {max(values):.1f} s, mean {statistics.fmean(values):.1f} s"
        )
    verdict = "met" if values and percentile(values, 0.99) <= goal else "NOT met"
    print(f"goal: p99 ≤ interval + confirmation + 2 s = {goal:g} s: {verdict}")


def main() -> None:
    args = parse_args()
    directory = Path(tempfile.mkdtemp(prefix="sitecare-bench-alerts-"))
    processes: list[Any] = []
    try:
        target, receiver = Target(), Receiver()
        receiver_server = receiver.start()
        use_temporary_database(directory)
        from django.db import connections

        make_world(args.monitors, args.interval, target.port, receiver_server.server_port)
        connections.close_all()
        env = {**os.environ, "SITECARE_ENGINE_METRICS_PORT": "0"}
        for command in ("probe-engine", "alert-sender"):
            cli = [sys.executable, "-m", "sitecare.cli", command]
            processes.append(start(cli, directory / f"{command}.log", env))
        wait_all_up(args.monitors, args.interval + 30)
        run = Run()
        shares = [
            args.outages // args.monitors + (n < args.outages % args.monitors)
            for n in range(args.monitors)
        ]
        began = time.monotonic()
        workers = [
            threading.Thread(
                target=outages_of, args=(f"m{n}", share, args, (target, receiver), run)
            )
            for n, share in enumerate(shares)
            if share
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        report(args, run, time.monotonic() - began)
        if run.missed:
            for command in ("probe-engine", "alert-sender"):
                print((directory / f"{command}.log").read_text()[-2000:], file=sys.stderr)
    finally:
        for process in processes:
            stop(process)
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
