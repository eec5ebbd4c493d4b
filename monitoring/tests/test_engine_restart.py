"""Restarting the probe engine mid-outage: no second "down" alert, no lost streak, no burst.

Each test stops one engine and starts a new ``ProbeEngine`` on the same database, as a
restart of the process would; the monitors' states and streaks live only in the database.
"""

from __future__ import annotations

import asyncio
import random

import pytest

from incidents.models import EventKind, Incident, IncidentState, Notification
from monitoring.engine.core import EngineConfig, ProbeEngine
from monitoring.models import CheckKind, CheckResult, Monitor, MonitorState
from monitoring.tests.loopback import ToggleServer, arun

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("netlog")]


@pytest.fixture
def agency(world):
    world.agency.ssrf_allowlist = "127.0.0.0/8"
    world.agency.save()
    Monitor.objects.update(enabled=False)
    return world


@pytest.fixture
def target():
    with ToggleServer() as server:
        yield server


def engine(seed: int = 11) -> ProbeEngine:
    config = EngineConfig.from_settings(
        flush_seconds=0.1, reload_seconds=0.2, stop_grace_seconds=2.0, metrics_port=0
    )
    return ProbeEngine(config, random.Random(seed))


def monitor_on(world, server, name, **fields):
    values = {
        "interval_s": 60,
        "timeout_s": 0.5,
        "state": MonitorState.UP,
        "streak_ok": True,
        "streak_count": 5,
        **fields,
    }
    return Monitor.objects.create(
        site=world.site_a, name=name, kind=CheckKind.HTTP, url=server.url(f"/{name}"), **values
    )


async def wait_for(probe: ProbeEngine, predicate, timeout: float = 8.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        if await probe.run_in_db(predicate):
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not reached in time")


def results_of(monitor) -> int:
    return CheckResult.objects.filter(monitor=monitor).count()


def check_now(probe: ProbeEngine, monitor) -> None:
    probe.schedule.put(monitor.pk, asyncio.get_running_loop().time())
    probe._wake.set()


def test_it_sends_no_second_down_alert_after_a_restart_and_resolves_once(agency, target):
    monitor = monitor_on(agency, target, "shop", recheck_s=1)
    first, second = engine(1), engine(2)

    async def before_restart():
        runner = asyncio.create_task(first.run())
        await wait_for(first, lambda: first.targets != {})
        target.broken = True
        check_now(first, monitor)
        await wait_for(first, lambda: Incident.objects.filter(monitor=monitor).exists())
        first.request_stop()
        await runner

    async def after_restart(count_before):
        runner = asyncio.create_task(second.run())
        await wait_for(second, lambda: second.targets != {})
        for extra in (1, 2):
            check_now(second, monitor)
            await wait_for(second, lambda n=count_before + extra: results_of(monitor) >= n)
        down = await second.run_in_db(lambda: Monitor.objects.get(pk=monitor.pk))
        target.broken = False
        check_now(second, monitor)
        await wait_for(second, lambda: Monitor.objects.get(pk=monitor.pk).state == "up")
        second.request_stop()
        await runner
        return down

    arun(before_restart())
    opened = Monitor.objects.get(pk=monitor.pk)
    alerts = Notification.objects.count()
    assert opened.state == MonitorState.DOWN and alerts >= 1
    down = arun(after_restart(results_of(monitor)))
    assert down.state == MonitorState.DOWN
    assert down.streak_count == opened.streak_count + 2  # the streak went on, not from zero
    assert (down.streak_since, down.state_since) == (opened.streak_since, opened.state_since)
    incident = Incident.objects.get(monitor=monitor)  # exactly one
    assert incident.state == IncidentState.RESOLVED
    opened_rows = Notification.objects.filter(event=EventKind.OPENED).count()
    resolved_rows = Notification.objects.filter(event=EventKind.RESOLVED).count()
    assert (opened_rows, resolved_rows) == (alerts, alerts)
    changes = list(monitor.state_changes.values_list("to_state", flat=True))
    assert changes == [MonitorState.DOWN, MonitorState.UP]


def test_it_finishes_a_confirmation_begun_before_the_restart(agency, target):
    monitor = monitor_on(agency, target, "shop", confirm_down=3, recheck_s=2)
    first, second = engine(3), engine(4)

    async def one_failure_then_stop():
        runner = asyncio.create_task(first.run())
        await wait_for(first, lambda: first.targets != {})
        target.broken = True
        check_now(first, monitor)
        await wait_for(first, lambda: results_of(monitor) == 1)
        first.request_stop()
        await runner

    async def restarted():
        loop = asyncio.get_running_loop()
        started = loop.time()
        runner = asyncio.create_task(second.run())
        await wait_for(second, lambda: Incident.objects.filter(monitor=monitor).exists())
        took = loop.time() - started
        second.request_stop()
        await runner
        return took

    arun(one_failure_then_stop())
    midway = Monitor.objects.get(pk=monitor.pk)
    assert (midway.state, midway.streak_ok, midway.streak_count) == ("up", False, 1)
    took = arun(restarted())
    # Re-checked within the pace (2 s) twice, not somewhere in the 60 s interval.
    assert took < 6.5
    down = Monitor.objects.get(pk=monitor.pk)
    assert down.state == MonitorState.DOWN and down.streak_count == 3
    assert down.state_since == midway.streak_since  # the outage began before the restart
    assert Incident.objects.filter(monitor=monitor).count() == 1


def test_it_spreads_first_checks_after_a_restart_except_pending_confirmations(agency, target):
    calm = [monitor_on(agency, target, f"calm{i}", interval_s=20, recheck_s=2) for i in range(30)]
    pending = [
        monitor_on(
            agency, target, "failing", interval_s=20, recheck_s=2, streak_ok=False, streak_count=1
        ),
        monitor_on(
            agency,
            target,
            "recovering",
            interval_s=20,
            recheck_s=2,
            state=MonitorState.DOWN,
            streak_ok=True,
            streak_count=1,
        ),
    ]
    down = monitor_on(
        agency,
        target,
        "down",
        interval_s=20,
        recheck_s=2,
        state=MonitorState.DOWN,
        streak_ok=False,
        streak_count=7,
    )
    probe = engine(5)

    async def scenario():
        await probe.handle_one_reload(force=True)
        now = asyncio.get_running_loop().time()

        def offset(monitor):
            return (probe.schedule.due_of(monitor.pk) or 0.0) - now

        offsets = [offset(m) for m in calm], [offset(m) for m in pending], offset(down)
        launched = probe.launch_due()
        await probe.shutdown()
        return offsets, launched

    (calm_offsets, pending_offsets, down_offset), launched = arun(scenario())
    assert all(0 <= x <= 20 for x in calm_offsets) and max(calm_offsets) > 12
    assert all(0 <= x <= 2 for x in pending_offsets)
    assert 0 <= down_offset <= 20
    assert launched < 3  # no burst
