"""File modes of the store: the var directory and the SQLite database are private to their user.

The database holds session keys, heartbeat tokens and subscriber emails; the var directory holds
the secret and encryption keys (0600 too). Nobody but the account sitecare runs as may read them.
SQLite creates a database's ``-wal``, ``-shm`` and ``-journal`` files with the mode of the
database file itself, so a database created (or tightened to) 0600 keeps them 0600 too.
"""

from __future__ import annotations

import os
import secrets
import stat
from collections.abc import Iterable
from pathlib import Path

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600
# The keys sitecare generates into the var directory on first start (sitecare.settings).
KEY_FILES = ("secret_key", "encryption_key")
# Files SQLite keeps beside a database.
SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")
# Everything a sitecare process writes is readable by its own user only.
PRIVATE_UMASK = 0o077


def private_directory(path: Path) -> None:
    """Create ``path`` (and missing parents) with mode 0700; an existing one is left alone."""
    path.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)


def write_private_file(path: Path, text: str) -> None:
    """Create ``path`` holding ``text``: mode 0600 from its first byte, and whole or absent,
    never half-written (another process may read it the moment it exists).

    1. Write ``text`` to a temporary file of our own beside it, created 0600, and flush it
       to disk.
    2. Hard-link it to ``path``, which fails with ``FileExistsError`` if ``path`` exists
       (another process made it first: the caller reads theirs).
    3. Remove the temporary name, whatever happened.
    """
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(6)}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.link(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def _tighten(path: Path, mode: int) -> bool:
    """Set ``mode`` if the path exists with any other permission bits; True when it changed."""
    try:
        current = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return False
    if current == mode:
        return False
    path.chmod(mode)
    return True


def secure_store(
    var_dir: Path, database: Path | None, secret_files: Iterable[Path] = ()
) -> list[Path]:
    """Make the var directory 0700, the keys in it and the SQLite database with its side
    files 0600.

    1. Create the var directory 0700, or tighten an existing one (older installs made it 0755).
    2. Tighten the generated keys (``KEY_FILES``) and the other ``secret_files`` given to
       0600 (older installs wrote the keys 0644).
    3. Create a missing database file empty with mode 0600 before SQLite first opens it (an
       empty file is a valid empty database), so the file and its side files start private.
    4. Tighten an existing database and its ``-wal``/``-shm``/``-journal`` files to 0600.

    Returns the paths whose mode changed, for the operator to be told.
    """
    changed: list[Path] = []
    private_directory(var_dir)
    if _tighten(var_dir, PRIVATE_DIR):
        changed.append(var_dir)
    for secret in (*(var_dir / name for name in KEY_FILES), *secret_files):
        if _tighten(secret, PRIVATE_FILE):
            changed.append(secret)
    if database is None:
        return changed
    if not database.exists():
        database.parent.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
        os.close(os.open(database, os.O_WRONLY | os.O_CREAT, PRIVATE_FILE))
    for path in (database, *(Path(f"{database}{suffix}") for suffix in SQLITE_SIDE_FILES)):
        if _tighten(path, PRIVATE_FILE):
            changed.append(path)
    return changed


def sqlite_path(database: dict[str, object]) -> Path | None:
    """The file of an SQLite database setting (None for other engines or in-memory ones)."""
    if "sqlite3" not in str(database.get("ENGINE", "")):
        return None
    name = str(database.get("NAME") or "")
    if not name or name == ":memory:" or name.startswith("file:"):
        return None
    return Path(name)
