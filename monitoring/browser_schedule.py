"""When browser monitors are checked: the job runner's scheduling step.

The probe engine keeps its schedule in memory; browser checks are jobs, so their schedule is
worked out from the database at each step, the same on every runner and after any restart:

1. A monitor's regular turns are ``phase + k × interval`` (epoch seconds), with a phase drawn
   from its id: stable across restarts, and spread over the interval, so 200 monitors with
   one interval do not start together.
2. While a flip awaits confirmation (``monitoring.engine.confirmation.is_confirming``: the last
   result disagrees with the state), the next check is due at the faster re-check pace
   counted from the last check (``recheck_pace``), as in the engine.
3. The check due now is the latest of those times that has come: its job is queued with the
   deduplication key (monitor, scheduled time), so steps of several runners, or repeated
   steps, queue it once; a turn missed while no runner ran is not caught up (only the current
   one runs).
4. A monitor whose check is still queued or running gets no new one (a slow runner does not
   pile up checks); paused, disabled and deleted monitors get none.
"""

from __future__ import annotations

import hashlib
import math
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings

from jobs.models import Job, JobState
from jobs.queue import enqueue
from monitoring.checks import BROWSER_KINDS, KINDS
from monitoring.engine.confirmation import is_confirming, recheck_pace
from monitoring.job_functions import BROWSER_CHECK, queue_of
from monitoring.models import Monitor
from monitoring.streaks import Streak

_IN_CHUNK = 900  # SQLite's limit on bound parameters, as in monitoring.uptime
_FIELDS = (
    "pk",
    "kind",
    "interval_s",
    "confirm_down",
    "recheck_s",
    "state",
    "streak_ok",
    "streak_count",
    "last_checked_at",
)


def phase_of(monitor_id: int, interval_s: int) -> int:
    """The monitor's offset within its interval (whole seconds), the same on every runner."""
    digest = hashlib.sha256(f"browser-check:{monitor_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % max(interval_s, 1)


def regular_turn(monitor_id: int, interval_s: int, now: datetime) -> datetime:
    """The monitor's latest regular turn at or before ``now`` (a whole second)."""
    phase = phase_of(monitor_id, interval_s)
    turn = phase + math.floor((now.timestamp() - phase) / interval_s) * interval_s
    return datetime.fromtimestamp(turn, UTC)


def due_at(row: dict[str, Any], now: datetime) -> datetime:
    """When the monitor's check due now was scheduled: its regular turn, or a confirmation
    re-check that came due after it."""
    interval = int(row["interval_s"])
    due = regular_turn(row["pk"], interval, now)
    streak = Streak(row["state"], row["streak_ok"], row["streak_count"])
    last = row["last_checked_at"]
    if last is not None and is_confirming(streak):
        pace = recheck_pace(interval, row["confirm_down"], float(row["recheck_s"]))
        recheck = (last + timedelta(seconds=pace)).replace(microsecond=0)
        if due < recheck <= now:
            due = recheck
    return due


# What a check's job may take beyond the check's own limit: the worker's start, reading and
# recording, artifacts. Past it the worker (and its browser) is killed.
JOB_MARGIN_S = 30.0


def job_time_limit(monitor_id: int, kind: str) -> float:
    """The hard limit of one check's job: the kind's own limit for the monitor's options
    plus a margin, or ``SITECARE_BROWSER_JOB_TIMEOUT`` for a kind that has none."""
    limit = KINDS[kind].time_limit
    monitor = Monitor.objects.filter(pk=monitor_id).only("config", "timeout_s").first()
    if limit is None or monitor is None:
        return float(settings.SITECARE_BROWSER_JOB_TIMEOUT)
    return limit(monitor.config or {}, float(monitor.timeout_s)) + JOB_MARGIN_S


def dedupe_key(monitor_id: int, scheduled: datetime) -> str:
    return f"browser-check:{monitor_id}:{int(scheduled.timestamp())}"


def pending_monitors() -> set[int]:
    """Monitors whose browser check is queued or running."""
    subjects = Job.objects.filter(
        function=BROWSER_CHECK, state__in=[JobState.QUEUED, JobState.RUNNING]
    ).values_list("subject", flat=True)
    return {int(s.split(":", 1)[1]) for s in subjects if s.startswith("monitor:")}


def handle_one_schedule(now: datetime) -> int:
    """Queue the browser checks due at ``now`` (see the module docstring); how many."""
    rows = list(
        Monitor.objects.filter(enabled=True, kind__in=sorted(BROWSER_KINDS)).values(*_FIELDS)
    )
    busy = pending_monitors()
    wanted = {
        dedupe_key(row["pk"], scheduled): (row, scheduled)
        for row in rows
        if row["pk"] not in busy
        for scheduled in [due_at(row, now)]
    }
    keys = list(wanted)
    known: set[str | None] = set()
    for i in range(0, len(keys), _IN_CHUNK):
        chunk = Job.objects.filter(dedupe_key__in=keys[i : i + _IN_CHUNK])
        known.update(chunk.values_list("dedupe_key", flat=True))
    queued = 0
    for key, (row, scheduled) in wanted.items():
        if key in known:
            continue
        job = enqueue(
            BROWSER_CHECK,
            {"monitor_id": row["pk"], "scheduled": scheduled.isoformat()},
            dedupe_key=key,
            subject=f"monitor:{row['pk']}",
            queue=queue_of(row["kind"]),
            timeout=job_time_limit(row["pk"], row["kind"]),
        )
        queued += job is not None
    return queued
