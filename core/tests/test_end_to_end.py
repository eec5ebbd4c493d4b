"""End to end: ``sitecare setup --demo`` then ``sitecare run --demo`` as a newcomer runs them.

Everything stays on loopback: the platform, the demo shop and a webhook receiver that this
test runs in a thread and that the demo's alert channel points at.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from sitecare.lib.procinfo import descendants, is_running
from sitecare.tests.processes import REPO, run_sitecare

INTERVAL = 2
# First checks wait for the engine to start (Django import, first load of monitors).
STARTUP_SLACK = 15


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Receiver:
    """A webhook receiver on loopback recording every POST (path, headers, JSON body)."""

    def __init__(self) -> None:
        self.posts: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.lock:
                    receiver.posts.append(
                        {"path": self.path, "headers": dict(self.headers), "json": json.loads(body)}
                    )
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def received(self) -> list[dict[str, Any]]:
        with self.lock:
            return list(self.posts)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    receiver.thread.start()
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()


def wait_for(what: str, condition: Callable[[], Any], timeout: float, log: Path) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}\n--- sitecare run ---\n{log.read_text()}")


def query(db: Path, sql: str) -> list[tuple[Any, ...]]:
    connection = sqlite3.connect(db, timeout=10)
    try:
        return connection.execute(sql).fetchall()
    except sqlite3.OperationalError:
        return []  # not migrated yet, or busy: ask again
    finally:
        connection.close()


def is_gone(pid: int) -> bool:
    return not is_running(pid)


def login_status(port: int) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        connection.request("GET", "/login/")
        return connection.getresponse().status
    except OSError:
        return 0
    finally:
        connection.close()


def monitor_states(db: Path) -> dict[str, str]:
    """The HTTP monitors' states (the demo's browser monitors have their own pace and runner)."""
    return dict(query(db, "SELECT name, state FROM monitoring_monitor WHERE kind = 'http'"))


def checkout_incidents(db: Path) -> list[tuple[Any, ...]]:
    return query(
        db,
        "SELECT i.state FROM incidents_incident i "
        "JOIN monitoring_monitor m ON m.id = i.monitor_id WHERE m.name = 'Checkout'",
    )


@pytest.mark.e2e
@pytest.mark.timeout(120)
def test_it_runs_the_whole_loop_green_outage_alert_recovery(tmp_path, receiver):
    web_port, demo_port = free_port(), free_port()
    db = tmp_path / "sitecare.sqlite3"
    log = tmp_path / "run.log"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("SITECARE_")},
        "SITECARE_VAR_DIR": str(tmp_path),
        "SITECARE_DEMO_PORT": str(demo_port),
        "SITECARE_MIN_INTERVAL_SECONDS": "1",
        "SITECARE_DEMO_INTERVAL": str(INTERVAL),
        "SITECARE_DEMO_TIMEOUT": "1",
        "SITECARE_ALERT_POLL_SECONDS": "0.2",
        "SITECARE_DEMO_ALERT_URL": f"json://127.0.0.1:{receiver.port}/hook",
        "SITECARE_ADMIN_PASSWORD": "e2e-admin-password-31",
    }
    run_sitecare("setup", "--demo", env=env, timeout=60)
    with log.open("w") as log_file:
        run = subprocess.Popen(
            [sys.executable, "-m", "sitecare.cli", "run", "--demo", "--port", str(web_port)],
            cwd=REPO,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    children: set[int] = set()
    try:
        wait_for("the login page", lambda: login_status(web_port) == 200, 30, log)
        children = descendants(run.pid)

        # Green: every demo monitor up within 3 intervals (after the engine started).
        wait_for(
            "the demo monitors to be up",
            lambda: set(monitor_states(db).values()) == {"up"} and len(monitor_states(db)) == 4,
            3 * INTERVAL + STARTUP_SLACK,
            log,
        )
        assert receiver.received() == []

        # Outage: checkout broken, one incident, one alert.
        run_sitecare("demo-site", "--break", "checkout", env=env, timeout=60)
        wait_for("the incident", lambda: checkout_incidents(db) == [("open",)], 6 * INTERVAL, log)
        wait_for("the down alert", receiver.received, 5, log)
        time.sleep(2 * INTERVAL)  # room for a wrong second alert to show up
        [down] = receiver.received()
        assert down["path"] == "/hook"
        assert down["json"]["title"] == "[DOWN] Demo shop: Checkout"
        assert down["headers"].get("X-Sitecare-Dedup-Key")
        assert monitor_states(db)["Home"] == "up"

        # Recovery: repaired, the incident resolves, one more alert.
        run_sitecare("demo-site", "--repair", env=env, timeout=60)
        wait_for(
            "the resolution", lambda: checkout_incidents(db) == [("resolved",)], 6 * INTERVAL, log
        )
        wait_for("the up alert", lambda: len(receiver.received()) >= 2, 5, log)
        time.sleep(INTERVAL)
        first, up = receiver.received()
        assert first == down
        assert up["json"]["title"] == "[UP] Demo shop: Checkout"

        # Stop: SIGTERM ends every child and exits 0.
        children |= descendants(run.pid)
        run.send_signal(signal.SIGTERM)
        assert run.wait(timeout=30) == 0, log.read_text()
        wait_for("every child to end", lambda: all(is_gone(p) for p in children), 5, log)
    finally:
        _cleanup(run, children)


def _cleanup(run: subprocess.Popen[bytes], children: set[int]) -> None:
    """Kill whatever this test started and is still running (its run and that run's children)."""
    children |= descendants(run.pid) if run.poll() is None else set()
    if run.poll() is None:
        run.kill()
        run.wait(timeout=10)
    for pid in children:
        if not is_gone(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
