"""Retention of browser artifacts: rows and files past the period go with the raw results; files
no row names go too (a deleted monitor's at once, a dead check's once old)."""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime, timedelta

import time_machine

from monitoring import artifact_retention
from monitoring.browser import artifacts
from monitoring.models import BrowserArtifact, CheckKind, Monitor
from monitoring.retention import handle_one_retention

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def kept(monitor_id: int, days_ago: float, kind: str = "screenshot") -> BrowserArtifact:
    return artifacts.keep(
        monitor_id, NOW - timedelta(days=days_ago), kind, data=b"\x89PNG-or-zip", step=2
    )


def stray_file(monitor_id: int, days_old: float, name: str = "") -> os.PathLike[str]:
    """A file in a monitor's artifact directory that no row names, ``days_old`` old."""
    directory = artifacts.root() / str(monitor_id)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / (name or f"{uuid.uuid4()}.zip")
    path.write_bytes(b"PK")
    moment = (NOW - timedelta(days=days_old)).timestamp()
    os.utime(path, (moment, moment))
    return path


@time_machine.travel(NOW, tick=False)
def test_it_deletes_artifacts_and_their_files_past_retention(world, monkeypatch):
    monkeypatch.setattr(artifact_retention, "_last_sweep", None)
    old = [kept(world.monitor_a.pk, 31), kept(world.monitor_a.pk, 45, "trace")]
    recent = kept(world.monitor_a.pk, 29)
    old_files = [artifacts.root() / a.path for a in old]
    assert all(path.is_file() for path in old_files)

    assert handle_one_retention() == 2
    assert list(BrowserArtifact.objects.values_list("pk", flat=True)) == [recent.pk]
    assert not any(path.exists() for path in old_files)
    assert artifacts.file_of(recent) is not None


@time_machine.travel(NOW, tick=False)
def test_it_sweeps_files_whose_rows_are_gone(world):
    deleted_monitor = Monitor.objects.create(
        site=world.site_a, name="Gone", kind=CheckKind.TRANSACTION, url="https://a.example/"
    )
    of_deleted = kept(deleted_monitor.pk, 1)
    deleted_directory = artifacts.root() / str(deleted_monitor.pk)
    deleted_monitor.delete()  # its rows go by cascade, its files stay behind
    dead_check = stray_file(world.monitor_a.pk, 40)
    in_progress = stray_file(world.monitor_a.pk, 0.01)
    not_ours = stray_file(world.monitor_a.pk, 40, name="notes.txt")
    live = kept(world.monitor_a.pk, 1)

    removed = artifact_retention.sweep_orphan_files(NOW - timedelta(days=30))

    assert removed == 2
    assert not (artifacts.root() / of_deleted.path).exists()
    assert not deleted_directory.exists()
    assert not os.path.exists(dead_check)
    assert os.path.exists(in_progress), "a check may be about to create its row"
    assert os.path.exists(not_ours)
    assert artifacts.file_of(live) is not None


@time_machine.travel(NOW, tick=False)
def test_it_walks_the_directory_at_most_once_an_hour(world, monkeypatch):
    monkeypatch.setattr(artifact_retention, "_last_sweep", None)
    stray_file(world.monitor_a.pk, 40)
    assert handle_one_retention() == 1
    stray_file(world.monitor_a.pk, 40)
    assert handle_one_retention() == 0, "the next sweep waits for its hour"
