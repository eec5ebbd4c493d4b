"""Retention: raw check results older than the retention period are deleted.

Only ``CheckResult`` rows go. Hourly rollups and the state-change log are kept forever: they
carry the history (charts, percentiles, exact outage intervals) in a few rows per monitor-day.
Deletion runs in short chunks, each its own transaction, so SQLite's single writer is never
held for long and the engine's result batches slip in between.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import close_old_connections, transaction
from django.utils import timezone

from monitoring.models import CheckResult

logger = logging.getLogger("sitecare.retention")

CHUNK_ROWS = 5_000
# One engine step deletes at most this much, then hands the database thread back to the
# result batches; the next step (a minute later) goes on.
STEP_BUDGET_ROWS = 50_000


def retention_days() -> int:
    """The retention period in days, from ``SITECARE_RESULT_RETENTION_DAYS`` (default 30)."""
    return int(settings.SITECARE_RESULT_RETENTION_DAYS)


def cutoff(now: datetime, days: int) -> datetime:
    """Results checked before this moment are past the retention period."""
    return now - timedelta(days=days)


def count_old_results(now: datetime, days: int) -> int:
    """How many raw results a prune would delete now."""
    return CheckResult.objects.filter(checked_at__lt=cutoff(now, days)).count()


def _delete_chunk(after: int, before: datetime, rows: int) -> tuple[int, int | None]:
    """Delete the old results among the next ``rows`` results (in id order) after id ``after``.

    1. Read the ids and check times of the next ``rows`` results: ids grow with time, so the
       old results sit at the start of the table, and reading a bounded slice in id order
       never scans the whole table (no index on the time alone is needed).
    2. Delete the old ones in that id range: a range, not a list of ids, so the statement has
       three parameters whatever the chunk size.
    Returns how many were deleted and the last id read (``None`` at the end of the table).
    """
    slice_ = list(
        CheckResult.objects.filter(pk__gt=after)
        .order_by("pk")
        .values_list("pk", "checked_at")[:rows]
    )
    if not slice_:
        return 0, None
    last = slice_[-1][0]
    if not any(checked_at < before for _pk, checked_at in slice_):
        return 0, last
    with transaction.atomic():
        deleted, _per_model = CheckResult.objects.filter(
            pk__gt=after, pk__lte=last, checked_at__lt=before
        ).delete()
    return deleted, last


def prune_raw_results(
    now: datetime, keep_days: int, *, chunk: int = CHUNK_ROWS, budget: int | None = None
) -> int:
    """Delete raw results older than ``keep_days`` before ``now`` in chunks; return the count.

    1. Walk the table in id order, a chunk at a time, deleting the old results of each chunk
       in its own short transaction.
    2. Stop at the first chunk with no old result (the recent part of the table begins), at
       the end of the table, or once ``budget`` rows are gone (if given).
    A result stored late with an old time sits among recent ids and goes once the walk
    reaches it, a little after its time is up. Never touches state changes or rollups.
    """
    before = cutoff(now, keep_days)
    total, after = 0, 0
    while budget is None or total < budget:
        rows = chunk if budget is None else min(chunk, budget - total)
        deleted, last = _delete_chunk(after, before, rows)
        total += deleted
        if last is None or not deleted:
            break
        after = last
    return total


def handle_one_retention() -> int:
    """One retention step of the engine: prune at most a step's budget; return the count."""
    close_old_connections()
    now = timezone.now()
    days = retention_days()
    deleted = prune_raw_results(now, days, budget=STEP_BUDGET_ROWS)
    if deleted:
        logger.info("deleted %d check results older than %d days", deleted, days)
    return deleted
