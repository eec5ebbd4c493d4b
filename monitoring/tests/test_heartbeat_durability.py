"""SIGKILL acceptance: 2,000 pings in a burst, the server killed mid-burst; every 200 is stored.

The server is the real one (gunicorn with the workers and threads ``sitecare run`` uses) on a
free loopback port, over its own migrated SQLite file: pytest-django's in-memory database is
invisible to another process. The file is read back with plain ``sqlite3`` after the kill.
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.conf import settings

from core.management.commands.run import web_command
from monitoring.checks import heartbeat
from monitoring.models import CheckKind, Monitor
from sitecare.tests.sqlite_files import copy_of, process_env
from sites.models import Site
from tenancy.models import Client, Organization

PINGS = 2_000
MONITORS = 100  # 20 pings a token: within the per-token burst allowance, so few 429s
SENDERS = 24
KILL_AFTER_OK = 700
KILL_AFTER_SECONDS = 15.0
SEED = (
    "import sys, django; django.setup();"
    "from monitoring.tests.test_heartbeat_durability import seed;"
    "print(' '.join(seed(int(sys.argv[1]))))"
)

pytestmark = pytest.mark.timeout(120)


def seed(count: int) -> list[str]:
    """Create ``count`` heartbeat monitors; return their tokens (run in a subprocess)."""
    agency = Organization.objects.create(name="Burst", slug="burst")
    client = Client.objects.create(organization=agency, name="C", slug="c")
    site = Site.objects.create(client=client, name="S", slug="s", url="https://s.example")
    monitors = [
        Monitor(
            site=site,
            name=f"Job {i}",
            kind=CheckKind.HEARTBEAT,
            url=heartbeat.new_token(),
        )
        for i in range(count)
    ]
    return [m.url for m in Monitor.objects.bulk_create(monitors)]


def server_env(db: Path, var_dir: Path, settings_module: str) -> dict[str, str]:
    return process_env(db, var_dir, DJANGO_SETTINGS_MODULE=settings_module)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def status_of(port: int, path: str, body: bytes = b"") -> int:
    """POST one ping on a new connection; the status, or 0 if the connection failed."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("POST", path, body=body, headers={"Content-Type": "text/plain"})
        return conn.getresponse().status
    except (OSError, http.client.HTTPException):
        return 0
    finally:
        conn.close()


class Server:
    """The gunicorn process group, started in its own session so one SIGKILL takes it all."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.port = free_port()
        with log.open("ab") as out:
            self.process = subprocess.Popen(
                web_command("127.0.0.1", self.port),
                cwd=settings.BASE_DIR,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.log = log
        self._killed = False
        self._kill_lock = threading.Lock()

    def wait_ready(self, token: str, timeout: float = 20.0) -> None:
        """Wait until a ping of a seeded token is stored: proof the port is ours, not a
        server some other test left on it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.process.poll() is None:
            if status_of(self.port, f"/ping/{token}", b"ready") == 200:
                return
            time.sleep(0.1)
        raise AssertionError(self.log.read_text(errors="replace"))

    def kill(self) -> None:
        """SIGKILL the master and its workers at once (safe to call from many threads)."""
        with self._kill_lock:
            if not self._killed:
                os.killpg(self.process.pid, signal.SIGKILL)
                self._killed = True
            self.process.wait(10)


@pytest.fixture
def server(migrated_sqlite: Path, tmp_path: Path) -> Iterator[tuple[Server, list[str], Path]]:
    db = copy_of(migrated_sqlite, tmp_path)
    env = server_env(db, tmp_path, "monitoring.tests.test_heartbeat_server")
    seeded = subprocess.run(
        [sys.executable, "-c", SEED, str(MONITORS)],
        cwd=settings.BASE_DIR,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    tokens = seeded.stdout.split()
    assert len(tokens) == MONITORS
    web = Server(env, tmp_path / "server.log")
    web.wait_ready(tokens[0])
    yield web, tokens, db
    web.kill()


def stored_markers(db: Path) -> set[str]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT body FROM monitoring_heartbeatping").fetchall()
    return {body for (body,) in rows}


def burst(web: Server, tokens: list[str]) -> dict[str, int]:
    """Send the pings from many threads; kill the server once enough were answered 200.

    Returns each ping's marker (its body) with the status it got (0: no answer).
    """
    answers: dict[str, int] = {}
    lock = threading.Lock()
    started = time.monotonic()

    def send(i: int) -> None:
        marker = f"burst-{i:05d}"
        status = status_of(web.port, f"/ping/{tokens[i % len(tokens)]}", marker.encode())
        with lock:
            answers[marker] = status
            ok = sum(1 for s in answers.values() if s == 200)
        if ok >= KILL_AFTER_OK or time.monotonic() - started > KILL_AFTER_SECONDS:
            web.kill()

    with ThreadPoolExecutor(SENDERS) as pool:
        list(pool.map(send, range(PINGS)))
    web.kill()
    return answers


def test_it_has_stored_every_ping_it_answered_200_when_killed_mid_burst(server):
    web, tokens, db = server
    answers = burst(web, tokens)
    counts = Counter(answers.values())
    print(f"answers by status (0: no server): {dict(counts)}")
    acknowledged = {marker for marker, status in answers.items() if status == 200}
    assert len(answers) == PINGS
    assert len(acknowledged) >= 100, counts  # a good part of the burst was served before the kill
    assert counts[0] > 0, counts  # and the kill came mid-burst: some pings found no server
    assert set(counts) <= {200, 429, 503, 0}, counts
    missing = acknowledged - stored_markers(db)
    assert not missing, f"{len(missing)} pings answered 200 but not stored ({counts})"
