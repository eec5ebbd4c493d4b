"""A migrated SQLite file for tests that run sitecare in other processes.

pytest-django's in-memory database is invisible to another process, so the tests that start
``sitecare`` commands (a real gunicorn, sender, engine or ``sitecare run``) work on a copy of
one migrated file (the ``migrated_sqlite`` fixture in the root conftest, made once a session)
with this environment.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from sitecare.tests.processes import run_sitecare


def process_env(db: Path, var_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a sitecare process over ``db``, with ``extra`` settings."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "sitecare.settings",
        "SITECARE_DATABASE_URL": f"sqlite:///{db}",
        "SITECARE_VAR_DIR": str(var_dir),
        "SITECARE_ENCRYPTION_KEY": "process-test-encryption-key",
        "SITECARE_SECRET_KEY": "process-test-secret-key",
        "PYTHONUNBUFFERED": "1",
        **extra,
    }


def migrate(home: Path) -> Path:
    """Create and migrate ``home/db.sqlite3``; return its path."""
    db = home / "db.sqlite3"
    run_sitecare("migrate", "--noinput", env=process_env(db, home))
    return db


def copy_of(template: Path, home: Path) -> Path:
    """A test's own copy of the migrated file, in ``home``."""
    db = home / "db.sqlite3"
    shutil.copy(template, db)
    return db
