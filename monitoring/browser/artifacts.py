"""Files browser checks keep: screenshots and Playwright traces, stored beside the database.

A file is written under ``SITECARE_ARTIFACT_DIR/<monitor id>/<uuid>.<ext>`` (mode 0600, the
directory 0700), then its row is created; a row whose file is missing reads as gone, never as
an error page.
"""

from __future__ import annotations

import os
import uuid
from datetime import datetime
from pathlib import Path

from django.conf import settings

from monitoring.models import ArtifactKind, BrowserArtifact
from sitecare.lib.filemodes import PRIVATE_FILE, private_directory

EXTENSIONS = {ArtifactKind.SCREENSHOT: "png", ArtifactKind.TRACE: "zip"}


def root() -> Path:
    return Path(settings.SITECARE_ARTIFACT_DIR)


def new_path(monitor_id: int, kind: str) -> tuple[uuid.UUID, Path]:
    """A fresh id and the file path it will live at (its directory exists, 0700)."""
    artifact_id = uuid.uuid4()
    directory = root() / str(monitor_id)
    private_directory(directory)
    return artifact_id, directory / f"{artifact_id}.{EXTENSIONS[ArtifactKind(kind)]}"


def keep(
    monitor_id: int,
    checked_at: datetime,
    kind: str,
    *,
    data: bytes | None = None,
    written: tuple[uuid.UUID, Path] | None = None,
    step: int | None = None,
    caption: str = "",
) -> BrowserArtifact:
    """Store one artifact: ``data`` to write, or a file already ``written`` at a new_path()."""
    if written is None:
        if data is None:
            raise ValueError("give data or a written file")
        written = new_path(monitor_id, kind)
        fd = os.open(written[1], os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
    artifact_id, path = written
    return BrowserArtifact.objects.create(
        id=artifact_id,
        monitor_id=monitor_id,
        checked_at=checked_at,
        kind=kind,
        step=step,
        caption=caption[:200],
        path=str(path.relative_to(root())),
        size=path.stat().st_size,
    )


def file_of(artifact: BrowserArtifact) -> Path | None:
    """The artifact's file, or None when it is gone (deleted by hand, retention raced)."""
    path = root() / artifact.path
    return path if path.is_file() else None
