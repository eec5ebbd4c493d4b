"""The examples a heartbeat's page shows are run as written (sh and curl, against the live
server on loopback): each stores the signals it promises."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from monitoring import views
from monitoring.checks import heartbeat
from monitoring.heartbeat_page import Schedule, examples_for
from monitoring.heartbeats import RateLimiter, ping_url
from monitoring.models import CheckKind, Monitor, PingKind

pytestmark = pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl")
SCHEDULE = Schedule(period_s=3600, cron=None, time_zone="UTC", grace_s=300, max_runtime_s=None)


@pytest.fixture
def beat(transactional_db, world, live_server, settings, monkeypatch) -> Monitor:
    settings.SITECARE_BASE_URL = live_server.url
    views.TOKENS.clear()
    monkeypatch.setattr(views, "RATE", RateLimiter(rate=100, burst=100))
    return Monitor.objects.create(
        site=world.site_a, name="Job", kind=CheckKind.HEARTBEAT, url=heartbeat.new_token()
    )


def _run(script: str, job: str) -> None:
    subprocess.run(["sh", "-c", script.replace("/path/to/job.sh", job)], check=True, timeout=30)


def _signals(monitor: Monitor) -> list[tuple[str, int | None]]:
    return list(monitor.pings.order_by("pk").values_list("kind", "exit_code"))


def test_it_runs_the_curl_and_start_exit_code_examples(beat):
    examples = examples_for(ping_url(beat.url), SCHEDULE)
    _run(examples.curl, "true")
    _run(examples.wrapped, "true")
    _run(examples.wrapped, "sh -c 'exit 3'")
    assert _signals(beat) == [
        (PingKind.SUCCESS, None),
        (PingKind.START, None),
        (PingKind.SUCCESS, 0),
        (PingKind.START, None),
        (PingKind.FAIL, 3),
    ]


def test_it_runs_the_failure_example_sending_the_log_tail(beat):
    examples = examples_for(ping_url(beat.url), SCHEDULE)
    _run(examples.failure, "sh -c 'echo disk full >&2; exit 1'")
    _run(examples.failure, "true")
    assert _signals(beat) == [(PingKind.FAIL, None), (PingKind.SUCCESS, None)]
    assert beat.pings.order_by("pk").first().body == "disk full\n"
