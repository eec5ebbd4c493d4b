"""Browser monitors are watched by job runners, not the probe engine: time no job runner ran
is unknown for them (and only for them) in the SLA."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time_machine

from monitoring.models import CheckKind, EngineRun, Monitor, MonitorState, RunLoop, StateChange
from sla.loading import monitor_timelines, site_timelines

START = datetime(2026, 9, 1, tzinfo=UTC)
END = datetime(2026, 10, 1, tzinfo=UTC)
NOW = datetime(2026, 9, 20, 12, tzinfo=UTC)


def at(day: int, hour: int) -> datetime:
    return datetime(2026, 9, day, hour, tzinfo=UTC)


def up_since_long_ago(monitor: Monitor) -> Monitor:
    long_ago = START - timedelta(days=30)
    Monitor.objects.filter(pk=monitor.pk).update(created_at=long_ago, state=MonitorState.UP)
    StateChange.objects.create(
        monitor=monitor, at=long_ago, from_state=MonitorState.UNKNOWN, to_state=MonitorState.UP
    )
    monitor.refresh_from_db()
    return monitor


def run(loop: RunLoop, started: datetime, stopped: datetime) -> None:
    EngineRun.objects.create(
        started_at=started, last_seen_at=stopped, stopped_at=stopped, host="h", pid=1, loop=loop
    )


def test_it_makes_time_no_job_runner_ran_unknown_for_browser_monitors_only(world) -> None:
    home = up_since_long_ago(world.monitor_a)
    other = up_since_long_ago(world.monitor_b)
    checkout = up_since_long_ago(
        Monitor.objects.create(
            site=world.site_a,
            name="Checkout",
            kind=CheckKind.TRANSACTION,
            url="https://a.example/",
        )
    )
    # The engine ran all along; job runners ran until the 5th 10:00 and again from 12:00.
    run(RunLoop.PROBE_ENGINE, START - timedelta(days=30), NOW)
    run(RunLoop.JOB_RUNNER, START - timedelta(days=30), at(5, 10))
    run(RunLoop.JOB_RUNNER, at(5, 12), NOW)
    with time_machine.travel(NOW, tick=False):
        timelines = monitor_timelines([home, checkout], START, END)
        sites = site_timelines([home, checkout, other], START, END)
    assert timelines[home.pk] == [(START, NOW, "up")]
    assert timelines[checkout.pk] == [
        (START, at(5, 10), "up"),
        (at(5, 10), at(5, 12), "unknown"),  # no job runner: nobody checked out
        (at(5, 12), NOW, "up"),
    ]
    # The site is judged by all its monitors: unknown beats up.
    assert sites[world.site_a.pk] == timelines[checkout.pk]
    # A site of engine monitors alone keeps the engine's view.
    assert sites[world.site_b.pk] == [(START, NOW, "up")]
