"""The store is private: ``sitecare setup`` leaves the var directory 0700 and the SQLite
database with its WAL and shared-memory files 0600, for new installs and older ones alike."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from sitecare.lib.filemodes import secure_store

REPO = Path(__file__).resolve().parents[2]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def run_setup(var_dir: Path) -> str:
    """``sitecare setup`` in a process of its own, as an operator runs it (umask 022)."""
    env = {
        **os.environ,
        "SITECARE_VAR_DIR": str(var_dir),
        "SITECARE_ADMIN_PASSWORD": "correct-horse-battery-9",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.pop("SITECARE_DATABASE_URL", None)
    previous = os.umask(0o022)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "sitecare.cli", "setup"],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        os.umask(previous)
    assert done.returncode == 0, done.stderr
    return done.stdout


def open_in_wal_mode(database: Path) -> sqlite3.Connection:
    """A connection that keeps the -wal and -shm files open, as a running server does."""
    connection = sqlite3.connect(database)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("CREATE TABLE IF NOT EXISTS probe (x)")
    connection.execute("INSERT INTO probe VALUES (1)")
    connection.commit()
    return connection


def test_it_sets_up_a_new_install_readable_by_its_user_only(tmp_path):
    var_dir = tmp_path / "var"
    run_setup(var_dir)
    database = var_dir / "sitecare.sqlite3"
    assert mode(var_dir) == 0o700
    assert mode(database) == 0o600
    assert mode(var_dir / "secret_key") == 0o600
    assert mode(var_dir / "encryption_key") == 0o600
    connection = open_in_wal_mode(database)
    try:
        assert mode(Path(f"{database}-wal")) == 0o600
        assert mode(Path(f"{database}-shm")) == 0o600
    finally:
        connection.close()


def test_it_tightens_an_existing_world_readable_install(tmp_path):
    var_dir = tmp_path / "var"
    var_dir.mkdir(mode=0o755)
    var_dir.chmod(0o755)
    database = var_dir / "sitecare.sqlite3"
    connection = open_in_wal_mode(database)
    try:
        for path in (database, Path(f"{database}-wal"), Path(f"{database}-shm")):
            path.chmod(0o644)
        output = run_setup(var_dir)
        assert "0700/0600" in output
        assert mode(var_dir) == 0o700
        for path in (database, Path(f"{database}-wal"), Path(f"{database}-shm")):
            assert mode(path) == 0o600, path
    finally:
        connection.close()


@pytest.mark.parametrize("existing", [False, True])
def test_it_creates_a_missing_database_private_before_sqlite_opens_it(tmp_path, existing):
    var_dir = tmp_path / "var"
    database = var_dir / "sitecare.sqlite3"
    if existing:
        var_dir.mkdir(mode=0o755)
        var_dir.chmod(0o755)
    changed = secure_store(var_dir, database)
    assert mode(var_dir) == 0o700
    assert database.exists() and database.stat().st_size == 0
    assert mode(database) == 0o600
    assert (var_dir in changed) is existing
    assert secure_store(var_dir, database) == []
