"""Retention of browser artifacts: screenshots and traces go with the raw results they belong to.

A row past the retention period goes, then its file. Files no row names any more go too:
those of a deleted monitor (its rows went with it) at once, and one a check wrote before dying
without its row once it is past the retention period itself. That sweep walks the artifact
directory, so it runs at most once per ``SWEEP_EVERY``.
"""

from __future__ import annotations

import logging
import re
import time
from datetime import datetime
from pathlib import Path

from django.db import transaction

from monitoring.browser.artifacts import root
from monitoring.models import BrowserArtifact, Monitor

logger = logging.getLogger("sitecare.retention")

CHUNK = 500  # rows per delete: their files are unlinked right after, outside the transaction
SWEEP_EVERY = 3600.0  # seconds between two walks of the artifact directory
FILE_NAME = re.compile(r"([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.(png|zip)")
_last_sweep: float | None = None


def _unlink(path: Path) -> None:
    try:
        path.unlink(missing_ok=True)
    except OSError as exc:  # a file we cannot remove now is swept later
        logger.warning("cannot delete %s: %s", path, exc)


def prune_artifacts(before: datetime, *, budget: int | None = None) -> int:
    """Delete artifacts kept with results checked before ``before``: rows, then their files.

    1. Take the oldest ``CHUNK`` rows past the cutoff; delete them in one short transaction.
    2. Unlink their files (a file left behind by a failed unlink is swept later).
    3. Repeat until none is left or ``budget`` rows are gone.
    """
    total = 0
    while budget is None or total < budget:
        size = CHUNK if budget is None else min(CHUNK, budget - total)
        old = list(
            BrowserArtifact.objects.filter(checked_at__lt=before)
            .order_by("checked_at")
            .values_list("pk", "path")[:size]
        )
        if not old:
            break
        with transaction.atomic():
            BrowserArtifact.objects.filter(pk__in=[pk for pk, _path in old]).delete()
        for _pk, path in old:
            _unlink(root() / path)
        total += len(old)
    return total


def _monitor_directories() -> dict[int, Path]:
    directory = root()
    if not directory.is_dir():
        return {}
    return {int(p.name): p for p in directory.iterdir() if p.is_dir() and p.name.isdigit()}


def sweep_orphan_files(before: datetime) -> int:
    """Delete artifact files no row names: a deleted monitor's, and others older than ``before``.

    Only files named as ``monitoring.browser.artifacts`` names them are touched.
    """
    directories = _monitor_directories()
    alive = set(Monitor.objects.filter(pk__in=list(directories)).values_list("pk", flat=True))
    cutoff = before.timestamp()
    removed = 0
    for monitor_id, directory in directories.items():
        files = {
            match.group(1): path
            for path in directory.iterdir()
            if (match := FILE_NAME.fullmatch(path.name)) and path.is_file()
        }
        if monitor_id in alive:
            files = {key: path for key, path in files.items() if path.stat().st_mtime < cutoff}
            ids = list(files)
            for start in range(0, len(ids), CHUNK):
                rows = BrowserArtifact.objects.filter(pk__in=ids[start : start + CHUNK])
                for known in rows.values_list("pk", flat=True):
                    files.pop(str(known), None)
        for path in files.values():
            _unlink(path)
            removed += 1
        if monitor_id not in alive and not any(directory.iterdir()):
            directory.rmdir()
    return removed


def handle_artifact_retention(before: datetime, *, budget: int | None = None) -> int:
    """One retention step for artifacts: prune rows and files; sweep orphans when due."""
    global _last_sweep
    deleted = prune_artifacts(before, budget=budget)
    now = time.monotonic()
    if _last_sweep is None or now - _last_sweep >= SWEEP_EVERY:
        _last_sweep = now
        deleted += sweep_orphan_files(before)
    return deleted
