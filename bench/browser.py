"""Browser checks: CPU per transaction and per speed measurement, and how stable LCP is.

Run by hand (not part of the test suite)::

    uv run python bench/browser.py                          # everything, ~5 minutes
    uv run python bench/browser.py --transactions 5 --speeds 2 --stability 0   # a quick look

1. Migrate a fresh SQLite database in a temporary directory; start the demo shop
   (``sitecare demo-site``) on a free loopback port.
2. Transactions: run the kind's ``run_in_browser`` (the job runner's code path: the process's
   pooled Chromium behind the guard proxy, a fresh context per check) N times for a five-step
   transaction (product → add to cart → the cart → checkout → the pay button is there) and for
   the demo's whole twelve-step purchase (form filled, paid, order number read, screenshot).
3. Speed: N speed checks of the demo's home page (mobile profile: 4× CPU slowdown, Slow 4G;
   three loads each, the median counts).
4. CPU = utime + stime of this process and every process below it (Playwright's driver,
   Chromium's whole tree, the guard proxy's thread) before and after, minus the demo shop's
   own CPU (the site is not the checker). Checks per minute per core = 60 / CPU seconds.
   The browser is not recycled during the run (``SITECARE_BROWSER_RECYCLE_CHECKS`` set high):
   a retired browser's CPU leaves the process tree with it and would go uncounted.
5. Stability: the coefficient of variation (standard deviation / mean) of the median LCP over
   ``--stability`` speed checks of the demo home page (each a median of three).
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchlib import (  # beside this script: run as python bench/…
    DEMO_FIVE_STEPS,
    ROOT,
    cpu_seconds,
    free_port,
    start,
    stop,
    tree_cpu_seconds,
    use_temporary_database,
    wait_for_port,
)

PURCHASE: list[dict[str, Any]] = [
    *DEMO_FIVE_STEPS[:4],
    {"action": "fill", "label": "Full name", "value": "Demo Buyer"},
    {"action": "fill", "label": "Email", "value": "buyer@example.com"},
    {"action": "fill", "label": "Card number", "value": "${CARD}"},
    {"action": "click", "role": "button", "name": "Pay now"},
    {"action": "wait_for", "url": "**/order/*"},
    {"action": "expect_visible", "test_id": "order-number"},
    {"action": "extract", "test_id": "order-number", "into": "ORDER"},
    {"action": "screenshot", "description": "Confirmation page"},
]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transactions", type=int, default=10, help="runs of each (10)")
    parser.add_argument("--speeds", type=int, default=5, help="speed checks for CPU (5)")
    parser.add_argument("--stability", type=int, default=10, help="speed checks for LCP CV (10)")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    directory = Path(tempfile.mkdtemp(prefix="bench-browser-"))
    os.environ["SITECARE_BROWSER_RECYCLE_CHECKS"] = "1000000"
    use_temporary_database(directory)
    port = free_port()
    env = dict(os.environ, SITECARE_DEMO_PORT=str(port))
    shop = start(
        [sys.executable, "-m", "sitecare.cli", "demo-site", "--port", str(port)],
        directory / "shop.log",
        env,
    )
    try:
        wait_for_port(port, 30)
        measure(args, f"http://127.0.0.1:{port}/", shop)
    finally:
        stop(shop)
        subprocess.run(["rm", "-rf", str(directory)], check=False)


def measure(args: argparse.Namespace, url: str, shop: subprocess.Popen[bytes]) -> None:
    from monitoring.browser.pool import pool
    from monitoring.checks import KINDS
    from monitoring.engine.target import CheckTarget
    from monitoring.logic import Outcome

    allowlist = (ipaddress.ip_network("127.0.0.0/8"),)

    def target(kind: str, config: dict[str, Any], timeout: float) -> CheckTarget:
        return CheckTarget(0, kind, url, config, 600.0, timeout, allowlist)

    def checked(kind: str, config: dict[str, Any], timeout: float) -> Callable[[], Outcome]:
        run = KINDS[kind].run_in_browser
        assert run is not None
        one = target(kind, config, timeout)
        return lambda: run(one, keep_artifacts=False)

    def timed(label: str, check: Callable[[], Outcome], count: int) -> list[Outcome]:
        check()  # warm-up: the browser launches, the shop's templates load
        me = os.getpid()
        shop_cpu, cpu, wall = cpu_seconds(shop.pid), tree_cpu_seconds(me), time.perf_counter()
        outcomes = [check() for _ in range(count)]
        wall = time.perf_counter() - wall
        cpu = tree_cpu_seconds(me) - cpu - (cpu_seconds(shop.pid) - shop_cpu)
        failed = [o.message for o in outcomes if not o.ok]
        per = cpu / count
        print(
            f"{label}: {count} checks, {per:.2f} CPU s and {wall / count:.2f} wall s each, "
            f"{60 / per:.0f} a minute per core; failed: {len(failed)}"
            + (f" ({failed[0]})" if failed else "")
        )
        return outcomes

    secrets = {"CARD": "4242 4242 4242 4242"}
    if args.transactions:
        five = {"steps": DEMO_FIVE_STEPS, "step_timeout": 10}
        timed("five-step transaction", checked("transaction", five, 30), args.transactions)
        purchase = {"steps": PURCHASE, "secrets": secrets, "step_timeout": 10}
        timed("twelve-step purchase", checked("transaction", purchase, 60), args.transactions)
    speed = {"profile": "mobile", "runs": 3}
    if args.speeds:
        timed("speed check (mobile, 3 loads)", checked("speed", speed, 30), args.speeds)
    if args.stability:
        outcomes = timed("LCP stability runs", checked("speed", speed, 30), args.stability)
        lcps = [o.details["median"]["lcp_ms"] for o in outcomes if o.ok and o.details]
        if len(lcps) >= 2:
            mean = statistics.fmean(lcps)
            cv = statistics.stdev(lcps) / mean
            shown = ", ".join(f"{v:.0f}" for v in lcps)
            print(f"median LCP of {len(lcps)} checks (ms): {shown}")
            print(f"LCP mean {mean:.0f} ms, coefficient of variation {cv * 100:.1f} %")
    pool().close()


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
