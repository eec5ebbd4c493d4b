"""The probe engine against a local target server: results, flips, jitter, reloads, stopping.

The engine touches the database only from its own thread, so these tests use a transactional
database and do their own database work mid-run through ``engine.run_in_db``.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal

import pytest
from django.core.management import call_command

from incidents.models import Incident, IncidentState
from monitoring.engine import store
from monitoring.engine.core import EngineConfig, ProbeEngine
from monitoring.engine.runner import serve
from monitoring.failures import FailureClass
from monitoring.models import CheckKind, CheckResult, Monitor, MonitorState
from monitoring.tests.loopback import ToggleServer, arun

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("netlog")]

FAST = {"flush_seconds": 0.1, "reload_seconds": 0.2, "stop_grace_seconds": 2.0}


@pytest.fixture
def agency(world):
    """The world's agency admitting loopback, with its own example.com monitors disabled."""
    world.agency.ssrf_allowlist = "127.0.0.0/8"
    world.agency.save()
    Monitor.objects.filter(pk__in=[world.monitor_a.pk, world.monitor_b.pk]).update(enabled=False)
    return world


@pytest.fixture
def target():
    with ToggleServer() as server:
        yield server


def make_monitors(world, server, count, interval_s=1, prefix="m"):
    return [
        Monitor.objects.create(
            site=world.site_a,
            name=f"{prefix}{i}",
            kind=CheckKind.HTTP,
            url=server.url(f"/{prefix}{i}"),
            interval_s=interval_s,
            timeout_s=0.5,
        )
        for i in range(count)
    ]


def engine(**overrides) -> ProbeEngine:
    return ProbeEngine(EngineConfig.from_settings(**{**FAST, **overrides}), random.Random(7))


async def wait_for(probe: ProbeEngine, predicate, timeout=8.0):
    """Poll a database predicate on the engine's database thread until true."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        if await probe.run_in_db(predicate):
            return
        await asyncio.sleep(0.1)
    raise AssertionError("condition not reached in time")


def test_it_stores_results_flips_down_opens_an_incident_and_resolves_it(agency, target):
    monitors = make_monitors(agency, target, 3)
    first = monitors[0]
    probe = engine()

    def state_of(monitor):
        return Monitor.objects.get(pk=monitor.pk).state

    async def scenario():
        runner = asyncio.create_task(probe.run())
        await wait_for(probe, lambda: all(state_of(m) == MonitorState.UP for m in monitors))
        target.broken = True
        await wait_for(probe, lambda: Incident.objects.filter(monitor=first).exists())
        target.broken = False
        await wait_for(probe, lambda: state_of(first) == MonitorState.UP)
        probe.request_stop()
        await runner

    arun(scenario())
    results = CheckResult.objects.filter(monitor=first)
    assert results.filter(ok=True, status_code=200).exists()
    failed = results.filter(ok=False).first()
    assert failed is not None
    assert failed.failure_class == FailureClass.HTTP_STATUS and failed.status_code == 500
    assert failed.response_ms is not None
    incident = Incident.objects.get(monitor=first)
    assert incident.state == IncidentState.RESOLVED
    assert list(first.state_changes.values_list("to_state", flat=True)) == ["up", "down", "up"]
    assert probe.pending == [] and probe.in_flight == {}


def test_it_spreads_first_checks_over_the_interval(agency, target):
    monitors = make_monitors(agency, target, 20, interval_s=10)
    probe = engine()

    async def scenario():
        await probe.handle_one_reload(force=True)
        now = asyncio.get_running_loop().time()
        offsets = [(probe.schedule.due_of(m.pk) or 0.0) - now for m in monitors]
        launched_at_start = probe.launch_due()
        await probe.shutdown()
        return offsets, launched_at_start

    offsets, launched_at_start = arun(scenario())
    assert all(0 <= offset <= 10 for offset in offsets)
    assert max(offsets) - min(offsets) > 5
    assert launched_at_start < 3


def test_it_runs_first_checks_at_different_moments(agency, target):
    make_monitors(agency, target, 10, interval_s=2)
    probe = engine()
    arun(probe.run(duration=2.5))
    first_checks = {
        monitor_id: min(r.checked_at for r in CheckResult.objects.filter(monitor_id=monitor_id))
        for monitor_id in CheckResult.objects.values_list("monitor_id", flat=True).distinct()
    }
    assert len(first_checks) == 10
    moments = sorted(first_checks.values())
    assert (moments[-1] - moments[0]).total_seconds() > 0.8


def test_it_respects_the_concurrency_bound(agency, target):
    make_monitors(agency, target, 6, interval_s=10)
    probe = engine(concurrency=2)

    async def scenario():
        await probe.handle_one_reload(force=True)
        for monitor_id in list(probe.targets):
            probe.schedule.put(monitor_id, 0.0)  # everything due at once
        launched = probe.launch_due()
        in_flight = len(probe.in_flight)
        await probe.shutdown()
        return launched, in_flight

    assert arun(scenario()) == (2, 2)


def test_it_stops_checking_deleted_and_disabled_monitors(agency, target):
    kept, disabled, deleted = make_monitors(agency, target, 3)
    probe = engine()

    def hits(monitor):
        return target.hits[f"/{monitor.name}"]

    def change_monitors():
        disabled.enabled = False
        disabled.save()
        Monitor.objects.filter(pk=deleted.pk).delete()
        return True

    async def scenario():
        runner = asyncio.create_task(probe.run())
        await wait_for(probe, lambda: all(hits(m) >= 1 for m in (kept, disabled, deleted)))
        await probe.run_in_db(change_monitors)
        await asyncio.sleep(0.8)  # reload (0.2 s) plus a check already under way
        frozen = hits(disabled), hits(deleted)
        kept_before = hits(kept)
        await asyncio.sleep(2.2)
        probe.request_stop()
        await runner
        return frozen, kept_before

    frozen, kept_before = arun(scenario())
    assert (hits(disabled), hits(deleted)) == frozen
    assert hits(kept) >= kept_before + 2
    assert set(probe.targets) == {kept.pk}


def test_it_picks_up_a_new_monitor_while_running(agency, target):
    probe = engine()

    async def scenario():
        runner = asyncio.create_task(probe.run())
        await asyncio.sleep(0.3)
        await probe.run_in_db(lambda: make_monitors(agency, target, 1, prefix="late"))
        await wait_for(probe, lambda: CheckResult.objects.exists(), timeout=4.0)
        probe.request_stop()
        await runner

    arun(scenario())
    assert target.hits["/late0"] >= 1


def test_it_flushes_pending_results_when_stopped_by_sigterm(agency, target):
    make_monitors(agency, target, 3)
    probe = engine(flush_seconds=3600)  # nothing is flushed before the stop

    async def scenario():
        loop = asyncio.get_running_loop()
        loop.call_later(1.6, os.kill, os.getpid(), signal.SIGTERM)
        await serve(probe, handle_signals=True)

    arun(scenario())
    assert probe.checks_started >= 3
    assert probe.pending == []
    assert CheckResult.objects.count() == probe.results_stored == probe.checks_started


def test_it_keeps_results_when_the_database_write_fails_and_stores_them_later(
    agency, target, monkeypatch
):
    (monitor,) = make_monitors(agency, target, 1)
    probe = engine()
    calls = []
    real = store.store_results

    def flaky(outcomes):
        calls.append(len(outcomes))
        if len(calls) == 1:
            raise RuntimeError("database is away")
        return real(outcomes)

    monkeypatch.setattr(store, "store_results", flaky)

    async def scenario():
        await probe.handle_one_reload(force=True)
        probe.schedule.put(monitor.pk, 0.0)
        probe.launch_due()
        await asyncio.gather(*probe.in_flight.values())
        failed_flush = await probe.handle_one_flush()
        kept = len(probe.pending)
        second_flush = await probe.handle_one_flush()
        await probe.shutdown()
        return failed_flush, kept, second_flush

    assert arun(scenario()) == (0, 1, 1)
    assert calls == [1, 1]
    assert CheckResult.objects.filter(monitor=monitor).count() == 1


def test_it_runs_as_the_probe_engine_command(agency, target):
    make_monitors(agency, target, 2)
    call_command("probe-engine", "--duration", "1.5")  # on uvloop; targets are loopback only
    assert CheckResult.objects.exists()
