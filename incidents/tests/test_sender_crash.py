"""SIGKILL acceptance: the alert sender, killed at each point of a send, delivers at least once,
repeats at most once, and never resends a recorded delivery.

The sender runs as a real subprocess (``python -m sitecare.cli alert-sender``). pytest-django's
SQLite test database lives in memory, invisible to another process, so these tests use their
own migrated SQLite file, written and read only by subprocesses and plain ``sqlite3``.
"""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from incidents.models import Channel, Notification
from incidents.tests.receivers import HOLD, WebhookReceiver, wait_until
from incidents.tests.test_sender import open_outage
from monitoring.models import CheckKind, Monitor
from sitecare.tests.sqlite_files import copy_of, process_env
from sites.models import Site
from tenancy.models import Client, Organization

READY = "alert sender started"
SEED = (
    "import sys, django; django.setup();"
    "from incidents.tests.test_sender_crash import seed_outbox;"
    "print(seed_outbox(sys.argv[1], float(sys.argv[2])))"
)


def seed_outbox(url: str, due_in: float) -> int:
    """Open an incident on a new monitor, its alert due in ``due_in`` s; return the row's pk.

    Runs inside a subprocess pointed at the crash database (see ``SEED``).
    """
    # The webhook receiver is on loopback: the agency's network policy admits it.
    agency, _ = Organization.objects.get_or_create(
        slug="crash", defaults={"name": "Crash", "ssrf_allowlist": "127.0.0.0/8"}
    )
    client, _ = Client.objects.get_or_create(organization=agency, slug="c", defaults={"name": "C"})
    site, _ = Site.objects.get_or_create(
        client=client, slug="s", defaults={"name": "Shop", "url": "https://shop.example"}
    )
    Channel.objects.get_or_create(organization=agency, name="hook", defaults={"url": url})
    monitor = Monitor.objects.create(
        site=site,
        name=f"Page {Monitor.objects.count()}",
        kind=CheckKind.HTTP,
        url="https://shop.example/",
    )
    now = timezone.now()
    incident = open_outage(monitor, now)
    notification = Notification.objects.get(incident=incident)
    notification.next_attempt_at = now + timedelta(seconds=due_in)
    notification.save(update_fields=["next_attempt_at"])
    return notification.pk


def crash_env(db: Path, var_dir: Path) -> dict[str, str]:
    return process_env(
        db,
        var_dir,
        SITECARE_ALERT_POLL_SECONDS="0.1",
        SITECARE_ALERT_BACKOFF_SECONDS="0.5",
        # The lease (4 timeouts) decides when a send killed in flight is retried.
        SITECARE_ALERT_SEND_TIMEOUT="1",
        SITECARE_LOG_LEVEL="INFO",
    )


class CrashWorld:
    """A crash database, the webhook and the sender subprocess (started, killed, restarted)."""

    def __init__(self, db: Path, var_dir: Path, webhook: WebhookReceiver) -> None:
        self.db = db
        self.env = crash_env(db, var_dir)
        self.webhook = webhook
        self.log = var_dir / "sender.log"
        self.process: subprocess.Popen[bytes] | None = None

    def seed(self, due_in: float = 0.0) -> int:
        done = subprocess.run(
            [sys.executable, "-c", SEED, self.webhook.url(), str(due_in)],
            cwd=settings.BASE_DIR,
            env=self.env,
            check=True,
            capture_output=True,
            text=True,
        )
        return int(done.stdout.strip().splitlines()[-1])

    def start_sender(self) -> None:
        started = self._log_text().count(READY)
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "sitecare.cli", "alert-sender"],
                cwd=settings.BASE_DIR,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        assert wait_until(lambda: self._log_text().count(READY) > started, 20), self._log_text()

    def kill_sender(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)
        self.process = None

    def row(self, pk: int) -> tuple[str, int]:
        with sqlite3.connect(self.db) as conn:
            state, attempts = conn.execute(
                "SELECT state, attempts FROM incidents_notification WHERE id = ?", (pk,)
            ).fetchone()
        return str(state), int(attempts)

    def make_due(self, pk: int) -> None:
        """Move the row's next attempt to now (as Django stores it: naive UTC text)."""
        now = datetime.now(UTC).replace(tzinfo=None).isoformat(sep=" ")
        with sqlite3.connect(self.db) as conn:
            conn.execute(
                "UPDATE incidents_notification SET next_attempt_at = ? WHERE id = ?", (now, pk)
            )

    def dedup_key(self, pk: int) -> str:
        with sqlite3.connect(self.db) as conn:
            (key,) = conn.execute(
                "SELECT dedup_key FROM incidents_notification WHERE id = ?", (pk,)
            ).fetchone()
        return str(key)

    def wait_delivered(self, pk: int, timeout: float = 20.0) -> None:
        delivered = wait_until(lambda: self.row(pk)[0] == "delivered", timeout)
        assert delivered, (self.row(pk), self._log_text())

    def copies_of(self, pk: int) -> list[tuple[str, str]]:
        """Each received copy of the row's alert: (dedup header, body message)."""
        key = self.dedup_key(pk)
        copies = [
            (r.headers.get("X-Sitecare-Dedup-Key", ""), r.json()["message"])
            for r in self.webhook.requests
        ]
        return [c for c in copies if c[0] == key or key in c[1]]

    def _log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


@pytest.fixture
def crash(migrated_sqlite, tmp_path) -> Iterator[CrashWorld]:
    db = copy_of(migrated_sqlite, tmp_path)
    webhook = WebhookReceiver().start()
    world = CrashWorld(db, tmp_path, webhook)
    yield world
    if world.process is not None:
        world.kill_sender()
    webhook.stop()


def settle() -> None:
    """Give a running sender several polls to do anything it would wrongly do."""
    time.sleep(1.0)


def test_it_sends_once_when_killed_before_sending(crash):
    # Written while no sender runs and due well after the sender is up, however slowly it
    # starts on a loaded machine; it falls due only once that sender is dead.
    pk = crash.seed(due_in=600)
    crash.start_sender()
    time.sleep(0.5)

    crash.kill_sender()
    assert crash.row(pk) == ("pending", 0)
    assert crash.webhook.requests == []

    crash.make_due(pk)
    crash.start_sender()
    crash.wait_delivered(pk)
    settle()
    assert len(crash.copies_of(pk)) == 1
    assert crash.row(pk) == ("delivered", 1)


def test_it_never_resends_after_the_delivery_is_recorded(crash):
    pk = crash.seed()
    crash.start_sender()
    crash.wait_delivered(pk)

    crash.kill_sender()
    crash.start_sender()
    # A new alert proves the restarted sender is working, and has not resent the first.
    control = crash.seed()
    crash.wait_delivered(control)
    settle()
    assert len(crash.copies_of(pk)) == 1
    assert len(crash.copies_of(control)) == 1
    assert crash.row(pk) == ("delivered", 1)


def test_it_repeats_at_most_once_with_the_same_key_when_killed_mid_send(crash):
    crash.webhook.answer(HOLD)  # the receiver keeps the first request open
    pk = crash.seed()
    crash.start_sender()
    assert crash.webhook.arrived.wait(20)

    crash.kill_sender()  # the send happened, its record did not
    crash.webhook.released.set()
    assert crash.row(pk) == ("pending", 1)

    crash.start_sender()
    crash.wait_delivered(pk)
    settle()
    key = crash.dedup_key(pk)
    copies = crash.copies_of(pk)
    # The first copy was never recorded, so it is repeated once after the lease, no more.
    assert len(copies) == 2
    assert all(header == key and f"Reference: {key}" in body for header, body in copies)
    assert crash.row(pk) == ("delivered", 2)
