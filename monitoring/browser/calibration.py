"""The environment a speed measurement ran in: the browser's version and the runner's CPU.

Lab figures depend on the machine as much as on the page: the same page on a slower CPU (a
new server, a noisy neighbour, a throttled VM) or in another Chromium reads slower. Each
measurement carries an **environment key**, and figures of different keys are never charted as
one series (a step in a line must mean the page changed, not the runner).

1. The **CPU score** is a fixed small pure-Python benchmark run by the runner process (the
   best of a few short trials, so a momentary hiccup does not count); higher is faster. It is
   measured once and cached for ``SCORE_TTL_S`` per process.
2. The **key** joins the profile, Chromium's major version (a patch update does not split a
   series; a new major may change the figures) and a **reference score**: the score of the
   first measurement of that environment. A new score within ``TOLERANCE`` of a known
   environment's reference (the nearest, if several) belongs to it; else it starts a new
   environment with itself as the reference. Fixed buckets would split one machine into two
   series whenever its jitter straddled a bucket's edge; a reference does not drift, so a
   machine that slowly gets slower still shows as a new series once it is ``TOLERANCE`` off.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterable

SCORE_TTL_S = 3_600.0
TRIALS = 5
WORK = 200_000  # loop iterations of one trial (about 10-30 ms on today's servers)
TOLERANCE = 0.15  # a score this close (relative) to an environment's reference is that one

_lock = threading.Lock()
_cached: tuple[float, float] | None = None  # (measured at, monotonic; score)


def _trial() -> float:
    """Seconds one run of the fixed workload takes."""
    started = time.perf_counter()
    total = 0
    for i in range(WORK):
        total = (total * 31 + i) % 1_000_003
    elapsed = time.perf_counter() - started
    assert total >= 0  # keeps the loop's result used
    return elapsed


def measure_cpu_score() -> float:
    """The CPU score now: tens of thousands of loop iterations a second, best of a few trials."""
    best = min(_trial() for _ in range(TRIALS))
    return round(WORK / best / 10_000, 1)


def cpu_score(now: float | None = None) -> float:
    """The process's CPU score, measured at most once per ``SCORE_TTL_S``."""
    global _cached
    moment = time.monotonic() if now is None else now
    with _lock:
        if _cached is None or moment - _cached[0] >= SCORE_TTL_S:
            _cached = (moment, measure_cpu_score())
        return _cached[1]


def forget_cpu_score() -> None:
    """Measure again at the next call (tests; a runner that moved to other hardware)."""
    global _cached
    with _lock:
        _cached = None


def browser_major(version: str) -> str:
    """ "150.0.7871.100" → "150"."""
    return version.split(".", 1)[0] or "?"


def reference_score(key: str) -> float | None:
    """The reference score a key carries (``…/cpu-2208`` → 2208.0); None if it has none."""
    _head, sep, tail = key.rpartition("/cpu-")
    try:
        return float(tail) if sep else None
    except ValueError:
        return None


def environment_key(
    profile: str, browser_version: str, score: float, known: Iterable[str] = ()
) -> str:
    """The series a measurement belongs to, ``mobile/chromium-150/cpu-2208``.

    1. Among the ``known`` keys of the same profile and Chromium major, those whose reference
       score is within ``TOLERANCE`` of ``score``: the nearest one.
    2. None: a new environment, ``score`` its reference.
    """
    prefix = f"{profile}/chromium-{browser_major(browser_version)}/cpu-"
    near = []
    for key in set(known):
        reference = reference_score(key) if key.startswith(prefix) else None
        if reference and score > 0 and abs(score / reference - 1) <= TOLERANCE:
            near.append((abs(math.log(score / reference)), key))
    return min(near)[1] if near else f"{prefix}{round(score)}"
