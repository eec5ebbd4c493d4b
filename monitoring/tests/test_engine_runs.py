"""The engine's run log: a real engine records its run, and the log says which time was watched."""

from __future__ import annotations

import asyncio
import logging
import os
import random
import socket
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from monitoring import engine_runs
from monitoring.engine import store
from monitoring.engine.core import EngineConfig, ProbeEngine
from monitoring.engine_runs import (
    record_beat,
    record_start,
    record_stop,
    unwatched_spans,
    watched_spans,
)
from monitoring.models import CheckKind, CheckResult, EngineRun, Monitor
from monitoring.tests.loopback import ToggleServer, arun

FAST = {"flush_seconds": 0.1, "reload_seconds": 0.2, "stop_grace_seconds": 2.0}
START = datetime(2026, 9, 1, tzinfo=UTC)
END = datetime(2026, 10, 1, tzinfo=UTC)
NOW = datetime(2026, 9, 20, 12, tzinfo=UTC)


def at(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, 9, day, hour, minute, second, tzinfo=UTC)


def run(started: datetime, seen: datetime, stopped: datetime | None = None) -> EngineRun:
    return EngineRun.objects.create(
        started_at=started, last_seen_at=seen, stopped_at=stopped, host="probe-1", pid=4242
    )


# --- a real engine -------------------------------------------------------------------------


@pytest.fixture
def checked(world):
    """One HTTP monitor of the world's agency on a local server (the others disabled)."""
    world.agency.ssrf_allowlist = "127.0.0.0/8"
    world.agency.save()
    Monitor.objects.filter(pk__in=[world.monitor_a.pk, world.monitor_b.pk]).update(enabled=False)
    with ToggleServer() as server:
        yield Monitor.objects.create(
            site=world.site_a,
            name="Local",
            kind=CheckKind.HTTP,
            url=server.url("/local"),
            interval_s=1,
            timeout_s=0.5,
        )


def engine(**overrides: float) -> ProbeEngine:
    config = EngineConfig.from_settings(**{**FAST, "beat_seconds": 0.2, **overrides})
    return ProbeEngine(config, random.Random(7))


async def wait_for(probe: ProbeEngine, predicate, timeout: float = 8.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        if await probe.run_in_db(predicate):
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not reached in time")


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("netlog")
def test_it_records_its_run_beats_and_stops_it_on_shutdown(checked) -> None:
    probe = engine()
    seen: list[EngineRun] = []

    def beating() -> bool:
        row = EngineRun.objects.first()
        if row is None or row.last_seen_at <= row.started_at:
            return False
        seen.append(row)
        return True

    async def scenario() -> None:
        runner = asyncio.create_task(probe.run())
        await wait_for(probe, beating)
        await wait_for(probe, lambda: CheckResult.objects.filter(monitor=checked).exists())
        probe.request_stop()
        await runner

    arun(scenario())
    (live,) = seen
    assert live.stopped_at is None  # still running when it beat
    (row,) = EngineRun.objects.all()
    assert (row.host, row.pid) == (socket.gethostname(), os.getpid())
    assert row.started_at < live.last_seen_at <= row.last_seen_at == row.stopped_at
    assert probe.run_id is None


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("netlog")
def test_it_goes_on_checking_when_its_run_cannot_be_recorded(checked, monkeypatch, caplog) -> None:
    real = store.begin_run
    calls: list[int] = []

    def flaky() -> int:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("database is away")
        return real()

    monkeypatch.setattr(store, "begin_run", flaky)
    probe = engine()

    async def scenario() -> None:
        runner = asyncio.create_task(probe.run())
        await wait_for(probe, lambda: CheckResult.objects.filter(monitor=checked).exists())
        await wait_for(probe, EngineRun.objects.exists)  # recorded at a later beat
        probe.request_stop()
        await runner

    with caplog.at_level(logging.ERROR, logger="sitecare.engine"):
        arun(scenario())
    assert "recording that the probe engine runs failed" in caplog.text
    assert EngineRun.objects.get().stopped_at is not None


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("netlog")
def test_it_records_a_new_run_when_its_row_went_away(checked) -> None:
    probe = engine()

    async def scenario() -> tuple[int | None, int | None]:
        runner = asyncio.create_task(probe.run())
        await wait_for(probe, EngineRun.objects.exists)
        first = probe.run_id
        await probe.run_in_db(lambda: EngineRun.objects.all().delete())
        await wait_for(probe, EngineRun.objects.exists)
        second = probe.run_id
        probe.request_stop()
        await runner
        return first, second

    first, second = arun(scenario())
    assert first is not None and second is not None and first != second
    (row,) = EngineRun.objects.all()
    assert row.pk == second and row.stopped_at is not None


def test_it_records_beats_and_a_stop_only_on_an_open_run(db) -> None:
    run_id = record_start(now=at(1, 0))
    assert record_beat(run_id, now=at(1, 0, 0, 30))
    record_stop(run_id, now=at(1, 0, 0, 40))
    assert not record_beat(run_id, now=at(1, 0, 1))  # stopped: a late beat changes nothing
    record_stop(run_id, now=at(1, 0, 2))
    row = EngineRun.objects.get(pk=run_id)
    assert (row.last_seen_at, row.stopped_at) == (at(1, 0, 0, 40), at(1, 0, 0, 40))


# --- watched and unwatched time ------------------------------------------------------------


@time_machine.travel(NOW, tick=False)
def test_it_trusts_the_whole_period_before_any_run_was_ever_recorded(db) -> None:
    assert watched_spans(START, END) == [(START, NOW)]  # clipped to now
    assert unwatched_spans(START, END) == []


@time_machine.travel(NOW, tick=False)
def test_it_trusts_the_time_before_the_first_run_and_not_the_time_between_runs(db) -> None:
    run(at(10, 8), at(10, 9), stopped=at(10, 9))
    run(at(10, 10), NOW - timedelta(seconds=5))  # running now
    assert watched_spans(START, END) == [(START, at(10, 9)), (at(10, 10), NOW)]
    assert unwatched_spans(START, END) == [(at(10, 9), at(10, 10))]
    # A period after the first run with no run in it is unwatched as a whole.
    assert unwatched_spans(at(15, 0), at(15, 1)) == []  # the live run covers it
    assert unwatched_spans(at(10, 9, 15), at(10, 9, 45)) == [(at(10, 9, 15), at(10, 9, 45))]


@time_machine.travel(NOW, tick=False)
def test_it_gives_a_run_that_died_two_beats_of_grace(db, settings) -> None:
    settings.SITECARE_ENGINE_BEAT_SECONDS = 30
    run(at(1, 0), at(1, 0))  # the first run: before it everything is trusted
    run(at(10, 8), at(10, 9))  # died after its beat at 09:00, never stopped
    run(at(10, 10), NOW)
    assert unwatched_spans(START, at(11, 0)) == [
        (at(1, 0, 1), at(10, 8)),
        (at(10, 9, 1), at(10, 10)),
    ]
    settings.SITECARE_ENGINE_BEAT_SECONDS = 300
    assert unwatched_spans(at(10, 8), at(10, 11)) == [(at(10, 9, 10), at(10, 10))]


@time_machine.travel(NOW, tick=False)
def test_it_joins_overlapping_runs_of_several_engines(db) -> None:
    run(at(2, 0), at(3, 0), stopped=at(3, 0))
    run(at(2, 12), at(4, 0), stopped=at(4, 0))
    run(at(3, 12), at(3, 13), stopped=at(3, 13))  # inside the second
    run(at(5, 0), at(6, 0), stopped=at(6, 0))
    assert watched_spans(at(1, 0), at(7, 0)) == [(at(1, 0), at(4, 0)), (at(5, 0), at(6, 0))]
    assert unwatched_spans(at(1, 0), at(7, 0)) == [(at(4, 0), at(5, 0)), (at(6, 0), at(7, 0))]


@time_machine.travel(NOW, tick=False)
def test_it_clips_a_live_run_to_now_and_leaves_the_future_alone(
    db, django_assert_num_queries
) -> None:
    run(at(1, 0), NOW - timedelta(seconds=10))  # live: its grace reaches past now
    with django_assert_num_queries(1):
        assert watched_spans(START, END) == [(START, NOW)]
    assert unwatched_spans(START, END) == []
    assert unwatched_spans(NOW + timedelta(hours=1), END) == []  # nothing has happened yet


def test_it_stops_trusting_a_run_whose_beats_stopped_once_the_grace_is_over(db) -> None:
    run(at(1, 0), at(20, 11, 59))
    with time_machine.travel(at(20, 12), tick=False):
        assert unwatched_spans(START, END) == []
    with time_machine.travel(at(20, 12, 5), tick=False):
        assert unwatched_spans(START, END) == [(at(20, 12), at(20, 12, 5))]


def test_it_names_the_period_when_it_is_wrong(db) -> None:
    with pytest.raises(ValueError, match="period"):
        watched_spans(datetime(2026, 9, 1), END)
    with pytest.raises(ValueError, match="period"):
        unwatched_spans(END, START)
    assert engine_runs.grace() == timedelta(seconds=60)
