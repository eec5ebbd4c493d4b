"""Retention: raw check results and heartbeat pings older than the retention period go, and
the screenshots and traces browser checks kept with them (``monitoring.artifact_retention``).

Only ``CheckResult`` and ``HeartbeatPing`` rows are deleted (and page speed measurements,
``SpeedMeasurement``, after their own longer period, ``SITECARE_SPEED_RETENTION_DAYS``); a
heartbeat monitor's latest ping of each kind stays whatever its age (the verdict and the UI
read it). Hourly rollups and the
state-change log are kept forever: they carry the history (charts, percentiles, exact outage
intervals) in a few rows per monitor-day.
Deletion runs in short chunks, each its own transaction, so SQLite's single writer is never
held for long and the engine's result batches slip in between.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import close_old_connections, models, transaction
from django.db.models import Max
from django.utils import timezone

from monitoring.artifact_retention import handle_artifact_retention
from monitoring.models import CheckResult, HeartbeatPing, SpeedMeasurement

logger = logging.getLogger("sitecare.retention")

CHUNK_ROWS = 5_000
# One engine step deletes at most this much, then hands the database thread back to the
# result batches; the next step (a minute later) goes on.
STEP_BUDGET_ROWS = 50_000


def retention_days() -> int:
    """The retention period in days, from ``SITECARE_RESULT_RETENTION_DAYS`` (default 30)."""
    return int(settings.SITECARE_RESULT_RETENTION_DAYS)


def speed_retention_days() -> int:
    """How long speed measurements are kept, from ``SITECARE_SPEED_RETENTION_DAYS`` (180)."""
    return int(settings.SITECARE_SPEED_RETENTION_DAYS)


def cutoff(now: datetime, days: int) -> datetime:
    """Results checked before this moment are past the retention period."""
    return now - timedelta(days=days)


def count_old_results(now: datetime, days: int) -> int:
    """How many raw results a prune would delete now."""
    return CheckResult.objects.filter(checked_at__lt=cutoff(now, days)).count()


def _latest_pings(low: int, high: int) -> set[int]:
    """Among pings with ids in ``(low, high]``, those that are their monitor's latest of a kind."""
    latest = (
        HeartbeatPing.objects.values("monitor_id", "kind")
        .annotate(last=Max("pk"))
        .filter(last__gt=low, last__lte=high)
        .values_list("last", flat=True)
    )
    return set(latest)


# The tables retention prunes: the model, its time column, and the rows it must spare.
PRUNED: tuple[tuple[type[models.Model], str], ...] = (
    (CheckResult, "checked_at"),
    (HeartbeatPing, "received_at"),
)
# Tables kept longer than raw results, each with its own period.
PRUNED_LATER: tuple[tuple[type[models.Model], str, Callable[[], int]], ...] = (
    (SpeedMeasurement, "measured_at", speed_retention_days),
)


def _delete_chunk(
    model: type[models.Model], time_field: str, after: int, before: datetime, rows: int
) -> tuple[int, int | None]:
    """Delete the old rows among the next ``rows`` rows (in id order) after id ``after``.

    1. Read the ids and times of the next ``rows`` rows: ids grow with time, so the old rows
       sit at the start of the table, and reading a bounded slice in id order never scans the
       whole table (no index on the time alone is needed).
    2. Delete the old ones in that id range: a range, not a list of ids, so the statement has
       a few parameters whatever the chunk size (a heartbeat's latest pings are spared).
    Returns how many were deleted and the last id read, ``None`` where the walk ends: at the
    end of the table, or at a slice with nothing old (the recent part of the table begins).
    """
    slice_ = list(
        model._default_manager.filter(pk__gt=after)
        .order_by("pk")
        .values_list("pk", time_field)[:rows]
    )
    if not slice_:
        return 0, None
    last = slice_[-1][0]
    if not any(moment < before for _pk, moment in slice_):
        return 0, None
    old = model._default_manager.filter(pk__gt=after, pk__lte=last, **{f"{time_field}__lt": before})
    if model is HeartbeatPing:
        old = old.exclude(pk__in=_latest_pings(after, last))
    with transaction.atomic():
        deleted, _per_model = old.delete()
    return deleted, last


def prune_old_rows(
    model: type[models.Model],
    time_field: str,
    now: datetime,
    keep_days: int,
    *,
    chunk: int = CHUNK_ROWS,
    budget: int | None = None,
) -> int:
    """Delete one table's rows older than ``keep_days`` before ``now`` in chunks; the count.

    1. Walk the table in id order, a chunk at a time, deleting the old rows of each chunk in
       its own short transaction.
    2. Stop at the first chunk with nothing old (the recent part of the table begins), at the
       end of the table, or once ``budget`` rows are gone (if given).
    A row stored late with an old time sits among recent ids and goes once the walk reaches
    it, a little after its time is up.
    """
    before = cutoff(now, keep_days)
    total, after = 0, 0
    while budget is None or total < budget:
        rows = chunk if budget is None else min(chunk, budget - total)
        deleted, last = _delete_chunk(model, time_field, after, before, rows)
        total += deleted
        if last is None:
            break
        after = last
    return total


def prune_raw_results(
    now: datetime, keep_days: int, *, chunk: int = CHUNK_ROWS, budget: int | None = None
) -> int:
    """Delete raw results older than ``keep_days`` before ``now``; return the count."""
    return prune_old_rows(CheckResult, "checked_at", now, keep_days, chunk=chunk, budget=budget)


def handle_one_retention() -> int:
    """One retention step of the engine: prune at most a step's budget; return the count."""
    close_old_connections()
    now = timezone.now()
    days = retention_days()
    deleted = 0
    tables = [(model, field, days) for model, field in PRUNED]
    tables += [(model, field, period()) for model, field, period in PRUNED_LATER]
    for model, time_field, keep_days in tables:
        count = prune_old_rows(model, time_field, now, keep_days, budget=STEP_BUDGET_ROWS)
        if count:
            logger.info("deleted %d %s older than %d days", count, model._meta.db_table, keep_days)
        deleted += count
    count = handle_artifact_retention(cutoff(now, days), budget=STEP_BUDGET_ROWS)
    if count:
        logger.info("deleted %d browser artifacts older than %d days", count, days)
    return deleted + count
