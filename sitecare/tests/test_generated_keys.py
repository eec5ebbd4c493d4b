"""The keys generated under var/ on first start: every process starting at the same moment
reads the same whole key, and an empty key file stops the start instead of being used."""

from __future__ import annotations

import contextlib
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

from sitecare.tests.processes import REPO, fresh_env, run_python

# Each process waits for the same moment, then imports the settings (which make the keys).
READ_KEYS = """
import sys, time
start = float(sys.argv[1])
while time.time() < start:
    pass
import sitecare.settings as s
print(s.SECRET_KEY, s.SITECARE_ENCRYPTION_KEY)
"""
PROCESSES = 12
ROUNDS = 3
WATCHED_ROUNDS = 10


def environment(var_dir: Path) -> dict[str, str]:
    """A fresh process's, without keys given: it makes them in ``var_dir``."""
    return fresh_env(var_dir, SITECARE_SECRET_KEY=None, SITECARE_ENCRYPTION_KEY=None)


def start_together(
    var_dir: Path, processes: int = PROCESSES, delay: float = 1.5
) -> list[subprocess.Popen[str]]:
    start = time.time() + delay
    return [
        subprocess.Popen(
            [sys.executable, "-c", READ_KEYS, str(start)],
            cwd=REPO,
            env=environment(var_dir),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(processes)
    ]


def test_it_gives_every_process_starting_together_the_same_whole_keys(tmp_path):
    for round_number in range(ROUNDS):
        var_dir = tmp_path / f"var{round_number}"
        seen = set()
        for process in start_together(var_dir):
            out, err = process.communicate(timeout=60)
            assert process.returncode == 0, err
            seen.add(out.strip())
        assert len(seen) == 1, seen
        secret_key, encryption_key = seen.pop().split(" ")
        assert len(secret_key) == 64 and len(encryption_key) == 64
        for name in ("secret_key", "encryption_key"):
            assert stat.S_IMODE((var_dir / name).stat().st_mode) == 0o600
        # Nothing half-made is left beside them.
        assert sorted(p.name for p in var_dir.iterdir()) == [
            "encryption_key",
            "secret_key",
            "static",
        ]


class Watcher(threading.Thread):
    """Reads the key files over and over while a process makes them: the first content seen
    under a key's name must already be the whole key."""

    def __init__(self, var_dir: Path) -> None:
        super().__init__(daemon=True)
        self.paths = [var_dir / "secret_key", var_dir / "encryption_key"]
        self.first_seen: dict[str, str] = {}
        self.done = threading.Event()

    def run(self) -> None:
        while len(self.first_seen) < len(self.paths):
            # One more look after the process ended: it may write its last key and exit
            # between two looks (settings import fast now).
            finishing = self.done.is_set()
            for path in self.paths:
                if path.name in self.first_seen:
                    continue
                with contextlib.suppress(FileNotFoundError):
                    self.first_seen[path.name] = path.read_text(encoding="utf-8")
            if finishing:
                return


def test_it_never_shows_a_key_file_half_written(tmp_path):
    for round_number in range(WATCHED_ROUNDS):
        var_dir = tmp_path / f"watched{round_number}"
        watcher = Watcher(var_dir)
        watcher.start()
        try:
            (process,) = start_together(var_dir, processes=1, delay=0.0)
            process.communicate(timeout=60)
        finally:
            watcher.done.set()
            watcher.join()
        assert process.returncode == 0
        assert {name: len(text.strip()) for name, text in watcher.first_seen.items()} == {
            "secret_key": 64,
            "encryption_key": 64,
        }


def test_it_refuses_to_start_with_an_empty_key_file(tmp_path):
    var_dir = tmp_path / "var"
    var_dir.mkdir(mode=0o700)
    (var_dir / "encryption_key").write_text("\n")
    done = run_python("-c", "import sitecare.settings", env=environment(var_dir), check=False)
    assert done.returncode != 0
    assert "ImproperlyConfigured" in done.stderr
    assert str(var_dir / "encryption_key") in done.stderr
