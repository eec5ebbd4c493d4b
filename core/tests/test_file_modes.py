"""The store is private: ``sitecare setup`` and ``sitecare run`` leave the var directory 0700
and the keys and the SQLite database with its WAL and shared-memory files 0600, for new
installs and older ones alike; whatever a sitecare command creates is its user's alone."""

from __future__ import annotations

import signal
import socket
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from sitecare.lib.filemodes import secure_store
from sitecare.tests.processes import REPO, fresh_env, run_sitecare

# What an operator's shell usually has: sitecare must not rely on a stricter one.
OPERATOR_UMASK = 0o022


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run_setup(var_dir: Path, **more: str) -> str:
    """``sitecare setup`` in a process of its own, as an operator runs it (umask 022)."""
    env = fresh_env(var_dir, SITECARE_ADMIN_PASSWORD="correct-horse-battery-9", **more)
    return run_sitecare("setup", env=env, umask=OPERATOR_UMASK).stdout


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


def world_readable_install(var_dir: Path) -> tuple[list[Path], sqlite3.Connection]:
    """An install made before the store was private: directory 0755, keys and database 0644,
    the database open in WAL mode as a running server keeps it; its files and connection."""
    var_dir.mkdir(mode=0o755)
    var_dir.chmod(0o755)
    database = var_dir / "sitecare.sqlite3"
    connection = open_in_wal_mode(database)
    # A secret given as SITECARE_*_FILE inside the var directory is tightened too.
    names = ("secret_key", "encryption_key", "email_password")
    for name in names:
        (var_dir / name).write_text(f"old-{name}-0123456789abcdef0123456789abcdef\n")
    files = [var_dir / name for name in names]
    files += [database, Path(f"{database}-wal"), Path(f"{database}-shm")]
    for path in files:
        path.chmod(0o644)
    return files, connection


def test_it_tightens_an_existing_world_readable_install(tmp_path):
    var_dir = tmp_path / "var"
    files, connection = world_readable_install(var_dir)
    try:
        output = run_setup(var_dir, SITECARE_EMAIL_PASSWORD_FILE=str(var_dir / "email_password"))
        assert "0700/0600" in output
        assert mode(var_dir) == 0o700
        for path in files:
            assert mode(path) == 0o600, path
    finally:
        connection.close()


def test_it_tightens_an_older_install_when_run_starts(tmp_path):
    var_dir = tmp_path / "var"
    files, connection = world_readable_install(var_dir)
    run = subprocess.Popen(
        [sys.executable, "-m", "sitecare.cli", "run"],
        cwd=REPO,
        env=fresh_env(var_dir, SITECARE_PORT=str(free_port())),
        umask=OPERATOR_UMASK,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert run.stdout is not None
        said = ""
        while "0700/0600" not in said:
            line = run.stdout.readline()
            assert line, said  # it ended without saying so
            said += line
        assert mode(var_dir) == 0o700
        for path in files:
            if path.name != "email_password":  # run was not told of it
                assert mode(path) == 0o600, path
    finally:
        run.send_signal(signal.SIGTERM)
        run.communicate(timeout=60)
        connection.close()


def test_it_creates_files_private_from_any_sitecare_command(tmp_path):
    """Whatever a sitecare command writes without choosing a mode (here a file the shell
    command makes) is its user's alone: the command line sets umask 077."""
    made = tmp_path / "made-by-sitecare"
    command = f"open({str(made)!r}, 'w')"
    run_sitecare("shell", "-c", command, env=fresh_env(tmp_path / "var"), umask=OPERATOR_UMASK)
    assert mode(made) == 0o600


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
