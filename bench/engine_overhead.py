"""CPU per check spent by the engine itself (scheduling, buffering, storing), without network.

    uv run python bench/engine_overhead.py [--monitors 2000] [--interval 2] [--duration 20]

The HTTP kind's runner is replaced, in this process only, by one that answers at once with a
plausible outcome, so what is measured is everything around the check: the scheduler, the
task per check, the streak mirror, metrics, the batch flush and the database thread.
"""

from __future__ import annotations

import argparse
import cProfile
import random
import tempfile
import time
from pathlib import Path

from benchlib import use_temporary_database


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--monitors", type=int, default=2000)
    parser.add_argument("--interval", type=int, default=2)
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--profile", default=None, help="cProfile the loop thread to FILE")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="sitecare-overhead-") as tmp:
        use_temporary_database(Path(tmp))
        run(args)


def run(args: argparse.Namespace) -> None:
    from django.utils import timezone
    from engine import make_monitors

    from monitoring import checks
    from monitoring.engine.core import EngineConfig
    from monitoring.engine.runner import run_engine
    from monitoring.engine.target import CheckTarget
    from monitoring.logic import Outcome
    from monitoring.models import Monitor, MonitorState
    from sitecare.lib.http import OutboundClient

    rng = random.Random(3)

    async def instant(target: CheckTarget, client: OutboundClient) -> Outcome:
        ms = rng.uniform(1, 40)
        return Outcome(
            target.monitor_id,
            timezone.now(),
            ok=True,
            status_code=200,
            response_ms=ms,
            dns_ms=0.0,
            connect_ms=0.2,
            ttfb_ms=ms - 0.5,
        )

    checks.RUNNERS["http"] = instant
    make_monitors(args.monitors, args.interval, "http://127.0.0.1:9/")
    # Steady state: the monitors are up already (a new monitor's first flip is a one-off).
    Monitor.objects.update(state=MonitorState.UP, streak_ok=True, streak_count=5)
    config = EngineConfig.from_settings(metrics_port=0)
    began = time.process_time()
    if args.profile:
        # CPU time of the loop's thread only (the database thread is bench/store_path.py's).
        profiler = cProfile.Profile(time.thread_time)
        engine = profiler.runcall(run_engine, duration=args.duration, config=config)
        profiler.dump_stats(args.profile)
    else:
        engine = run_engine(duration=args.duration, config=config)
    cpu = time.process_time() - began
    print(
        f"{engine.results_stored} checks stored in {args.duration:.0f} s "
        f"({engine.results_stored / args.duration:,.0f}/s scheduled "
        f"{args.monitors / args.interval:,.0f}/s): {1000 * cpu / engine.results_stored:.3f} ms "
        "CPU per check (engine and storage, no network)"
    )


if __name__ == "__main__":
    main()
