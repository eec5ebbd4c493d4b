"""The probe engine's run log: recording its runs, and which time they watched.

The engine (``monitoring.engine``) records a run when it starts (:func:`record_start`), moves
its ``last_seen_at`` forward every ``SITECARE_ENGINE_BEAT_SECONDS`` (:func:`record_beat`, one
UPDATE) and sets ``stopped_at`` on a clean stop (:func:`record_stop`).

Reading the log, over a period ``[start, end)`` clipped to now:

- a run watched ``[started_at, stopped_at)`` when it stopped cleanly, otherwise
  ``[started_at, last_seen_at + grace)`` (it died without a word: it is trusted for two beats
  after its last one, ``grace``); runs of several engines may overlap and are joined;
- before the very first run ever recorded nothing is known about the engine, so that time is
  trusted as the state-change log tells it (installs older than this log, and tests that never
  start an engine, keep their figures): it counts as watched;
- :func:`watched_spans` is that time, :func:`unwatched_spans` the rest of the period: time in
  which no engine checked anything, so a monitor's recorded state says nothing about it.

Job runners record their runs in the same log (``loop`` job-runner, written by the
``sitecare job-runner`` command): they run the browser kinds (``monitoring.browser_jobs``),
so a browser monitor's watched time is the job runners' runs, every other monitor's the probe
engines' (:func:`loop_of`); each loop's first run is counted separately.

Only the SLA loader (``sla.loading``) applies unwatched time (as state unknown);
``monitoring.uptime``'s figures on the dashboard and the site and monitor pages read the
state-change log as it is.
"""

from __future__ import annotations

import os
import socket
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q, Subquery
from django.utils import timezone

from monitoring.checks import BROWSER_KINDS
from monitoring.models import EngineRun, RunLoop
from sitecare.lib.intervals import Interval, check, clip, merge, subtract

BEATS_OF_GRACE = 2


def grace() -> timedelta:
    """How long a run that stopped beating is still taken to have been watching."""
    return timedelta(seconds=BEATS_OF_GRACE * settings.SITECARE_ENGINE_BEAT_SECONDS)


# --- recording (the engine's database thread) ----------------------------------------------


def loop_of(kind: str) -> RunLoop:
    """Which loop checks monitors of this kind: job runners the browser kinds, else the engine."""
    return RunLoop.JOB_RUNNER if kind in BROWSER_KINDS else RunLoop.PROBE_ENGINE


def record_start(*, now: datetime | None = None, loop: RunLoop = RunLoop.PROBE_ENGINE) -> int:
    """Record a run of this process (of ``loop``) starting now; return its id."""
    now = now or timezone.now()
    run = EngineRun.objects.create(
        started_at=now,
        last_seen_at=now,
        host=socket.gethostname()[:255],
        pid=os.getpid(),
        loop=loop,
    )
    return run.pk


def record_beat(run_id: int, *, now: datetime | None = None) -> bool:
    """Move the run's ``last_seen_at`` to now (one UPDATE); False when the run is not open
    (its row was deleted, or it was stopped)."""
    now = now or timezone.now()
    open_run = EngineRun.objects.filter(pk=run_id, stopped_at__isnull=True)
    return open_run.update(last_seen_at=now) == 1


def record_stop(run_id: int, *, now: datetime | None = None) -> None:
    """Mark the run as stopped cleanly now (its last beat too)."""
    now = now or timezone.now()
    EngineRun.objects.filter(pk=run_id, stopped_at__isnull=True).update(
        last_seen_at=now, stopped_at=now
    )


# --- reading -------------------------------------------------------------------------------


def watched_spans(
    start: datetime,
    end: datetime,
    *,
    now: datetime | None = None,
    loop: RunLoop = RunLoop.PROBE_ENGINE,
) -> list[Interval]:
    """The time in ``[start, min(end, now))`` some run of ``loop`` watched (or before its
    first run).

    1. Read, in one query, the runs that may overlap the period and the first run ever.
    2. No run at all: the whole period is trusted.
    3. Each run's span (to its stop, or to its last beat plus the grace), and the time before
       the first run; joined, clipped to the period and to now.
    """
    check([(start, end)], name="period")
    now = now or timezone.now()
    high = min(end, now)
    if high <= start:
        return []
    slack = grace()
    runs = EngineRun.objects.filter(loop=loop)
    first = runs.order_by("started_at", "pk").values("started_at")[:1]
    rows = list(
        runs.filter(
            Q(last_seen_at__gte=start - slack, started_at__lt=high) | Q(started_at=Subquery(first))
        ).values_list("started_at", "last_seen_at", "stopped_at")
    )
    if not rows:
        return [(start, high)]
    # The first run ever is among the rows, so the earliest start among them is its start;
    # the time before it is trusted.
    spans = [(start, min(row[0] for row in rows))]
    spans += [(began, stopped or seen + slack) for began, seen, stopped in rows]
    return clip(merge(spans), start, high)


def unwatched_spans(
    start: datetime,
    end: datetime,
    *,
    now: datetime | None = None,
    loop: RunLoop = RunLoop.PROBE_ENGINE,
) -> list[Interval]:
    """The time in ``[start, min(end, now))`` no run of ``loop`` watched (after its first)."""
    check([(start, end)], name="period")
    now = now or timezone.now()
    high = min(end, now)
    if high <= start:
        return []
    return subtract([(start, high)], watched_spans(start, end, now=now, loop=loop))
