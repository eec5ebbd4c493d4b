"""CPU per stored check on the engine's database side alone (no network), on SQLite.

    uv run python bench/store_path.py [--monitors 2000] [--batch 1000] [--rounds 20]

Creates N HTTP monitors in a throwaway database, then feeds ``record_results`` batches of
outcomes the way the engine's flush does (every monitor once per round, a few per cent
failing, some of them flipping; the first round, which makes every new monitor up, is not
counted), and prints the CPU time per stored outcome: the share of the
engine's per-check budget (≤ 0.45 ms) that the storage path takes.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from benchlib import use_temporary_database


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--monitors", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--failing", type=float, default=0.02, help="share of failed checks")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="sitecare-store-") as tmp:
        use_temporary_database(Path(tmp))
        run(args)


def run(args: argparse.Namespace) -> None:
    # Imported after Django is configured on the temporary database.
    from engine import make_monitors

    from monitoring.failures import FailureClass
    from monitoring.logic import Outcome, record_results

    first = make_monitors(args.monitors, 30, "http://127.0.0.1:9/")
    ids = list(range(first, first + args.monitors))
    rng = random.Random(7)
    start = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    total_cpu = 0.0
    stored = 0
    for round_no in range(args.rounds):
        at = start + timedelta(seconds=30 * round_no)
        outcomes = []
        for monitor_id in ids:
            if rng.random() < args.failing:
                outcomes.append(
                    Outcome(
                        monitor_id,
                        at,
                        ok=False,
                        failure_class=FailureClass.HTTP_STATUS,
                        status_code=500,
                        response_ms=3.0,
                        message="HTTP 500",
                    )
                )
            else:
                outcomes.append(
                    Outcome(
                        monitor_id,
                        at,
                        ok=True,
                        status_code=200,
                        response_ms=rng.uniform(1, 40),
                        dns_ms=0.1,
                        connect_ms=0.3,
                        ttfb_ms=1.2,
                    )
                )
        for i in range(0, len(outcomes), args.batch):
            batch = outcomes[i : i + args.batch]
            began = time.process_time()
            record_results(batch)
            if round_no > 0:  # the first round makes every new monitor up: a one-off cost
                total_cpu += time.process_time() - began
                stored += len(batch)
    print(
        f"{stored} outcomes stored in batches of {args.batch}: "
        f"{1000 * total_cpu / stored:.3f} ms CPU per stored check"
    )


if __name__ == "__main__":
    main()
