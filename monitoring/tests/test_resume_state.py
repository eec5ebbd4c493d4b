"""A resumed monitor is unknown until its next checks decide: the state it was paused in is
stale, so a monitor paused while down and repaired meanwhile is not down again from the
resume (review H2). Its open incident stays open through the pause; the first checks after
the resume resolve it or keep it, with no new incident and no flap."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from api.tests.conftest import ApiCaller
from incidents.models import EventKind, Incident, IncidentEvent, IncidentState, Notification
from monitoring.failures import FailureClass
from monitoring.logic import Outcome, record_results
from monitoring.models import Monitor, MonitorState, StateChange
from monitoring.pauses import Actor, set_enabled
from sla.examples import install_example_plans
from sla.models import CarePlan, ClientPlan
from sla.periods import parse_period
from sla.report import client_sla
from tenancy.models import ApiToken

T0 = datetime(2026, 10, 2, 10, tzinfo=UTC)
INTERVAL = timedelta(seconds=60)
PAUSED_AT = T0 + timedelta(minutes=10)
RESUMED_AT = PAUSED_AT + timedelta(minutes=30)


def check(monitor: Monitor, at: datetime, *, ok: bool) -> None:
    with time_machine.travel(at, tick=False):
        record_results(
            [
                Outcome(
                    monitor_id=monitor.pk,
                    checked_at=at,
                    ok=ok,
                    status_code=200 if ok else 500,
                    failure_class=FailureClass.NONE if ok else FailureClass.HTTP_STATUS,
                    message="" if ok else "HTTP 500",
                )
            ]
        )


@pytest.fixture
def down_then_paused(world) -> Monitor:
    """Monitor A (confirm 2 down, 2 up) up from T0, down from T0 + 2 min (an incident with
    its alert), paused at PAUSED_AT through the API."""
    monitor = world.monitor_a
    Monitor.objects.filter(pk=monitor.pk).update(created_at=T0, confirm_down=2, confirm_up=2)
    at = T0
    for ok in (True, True, False, False, False):
        check(monitor, at, ok=ok)
        at += INTERVAL
    monitor.refresh_from_db()
    assert monitor.state == MonitorState.DOWN
    _token, raw = ApiToken.issue(world.engineer, "ops")
    with time_machine.travel(PAUSED_AT, tick=False):
        paused = ApiCaller(raw).patch(f"/monitors/{monitor.pk}", {"enabled": False})
    assert paused.status_code == 200
    return monitor


def opened_alerts(monitor: Monitor) -> int:
    return Notification.objects.filter(incident__monitor=monitor, event=EventKind.OPENED).count()


def test_it_makes_a_resumed_monitor_unknown_with_a_state_change_and_a_fresh_streak(
    world, down_then_paused
):
    monitor = down_then_paused
    event = set_enabled(monitor, True, Actor.web(world.engineer), now=RESUMED_AT)
    assert event is not None
    assert (monitor.state, monitor.state_since) == (MonitorState.UNKNOWN, RESUMED_AT)
    monitor.refresh_from_db()
    assert (monitor.state, monitor.state_since) == (MonitorState.UNKNOWN, RESUMED_AT)
    assert (monitor.streak_ok, monitor.streak_count, monitor.streak_since) == (None, 0, None)
    last = StateChange.objects.filter(monitor=monitor).latest("at", "pk")
    assert (last.at, last.from_state, last.to_state) == (
        RESUMED_AT,
        MonitorState.DOWN,
        MonitorState.UNKNOWN,
    )
    # The incident opened before the pause stays open until the checks decide.
    assert Incident.objects.get(monitor=monitor).state == IncidentState.OPEN


def test_it_charges_no_downtime_from_the_resume_when_the_first_check_is_up(world, down_then_paused):
    """The review's case: repaired while paused, resumed, first check up a minute later."""
    install_example_plans(world.agency)
    plan = CarePlan.objects.get(organization=world.agency, slug="seasonal-shop")
    ClientPlan.objects.create(client=world.client_a, plan=plan)
    monitor = down_then_paused
    _token, raw = ApiToken.issue(world.engineer, "ops")
    with time_machine.travel(RESUMED_AT, tick=False):
        resumed = ApiCaller(raw).patch(f"/monitors/{monitor.pk}", {"enabled": True})
    assert resumed.status_code == 200
    first = RESUMED_AT + timedelta(seconds=50)
    check(monitor, first, ok=True)  # one success decides: no confirm_up from unknown
    monitor.refresh_from_db()
    assert (monitor.state, monitor.state_since) == (MonitorState.UP, first)
    incident = Incident.objects.get(monitor=monitor)
    assert (incident.state, incident.resolved_at) == (IncidentState.RESOLVED, first)
    assert Notification.objects.filter(incident=incident, event=EventKind.RESOLVED).exists()
    now = first + timedelta(minutes=5)
    window = client_sla(world.client_a, parse_period("2026-10", "Europe/Warsaw"), now=now).window
    assert window is not None
    # Down from the first failure (T0 + 2 min) to the pause: 8 minutes, one outage; the
    # pause and the 50 s from the resume to the first check are unknown, not down.
    assert window.figures.down == timedelta(minutes=8)
    assert window.figures.outage_count == 1
    assert window.figures.unknown == timedelta(minutes=30, seconds=50)


def test_it_keeps_the_open_incident_without_a_new_alert_when_it_is_still_down(
    world, down_then_paused
):
    monitor = down_then_paused
    set_enabled(monitor, True, Actor.web(world.engineer), now=RESUMED_AT)
    first = RESUMED_AT + timedelta(seconds=50)
    check(monitor, first, ok=False)
    monitor.refresh_from_db()
    assert monitor.state == MonitorState.UNKNOWN  # one failure confirms nothing
    check(monitor, first + INTERVAL, ok=False)
    monitor.refresh_from_db()
    # Down again, dated at the first failed check after the resume, not at the resume.
    assert (monitor.state, monitor.state_since) == (MonitorState.DOWN, first)
    [incident] = Incident.objects.filter(monitor=monitor)
    assert incident.state == IncidentState.OPEN and incident.flap_count == 0
    assert opened_alerts(monitor) == 1  # the one sent before the pause
    assert not IncidentEvent.objects.filter(incident=incident, kind=EventKind.FLAPPED).exists()


def test_it_makes_a_monitor_resumed_while_up_unknown_and_up_again_at_its_first_check(
    world,
):
    monitor = world.monitor_a
    Monitor.objects.filter(pk=monitor.pk).update(created_at=T0)
    check(monitor, T0, ok=True)
    set_enabled(monitor, False, Actor.web(world.engineer), now=PAUSED_AT)
    set_enabled(monitor, True, Actor.web(world.engineer), now=RESUMED_AT)
    check(monitor, RESUMED_AT + INTERVAL, ok=True)
    changes = list(
        StateChange.objects.filter(monitor=monitor)
        .order_by("at", "pk")
        .values_list("at", "from_state", "to_state")
    )
    assert changes == [
        (T0, MonitorState.UNKNOWN, MonitorState.UP),
        (RESUMED_AT, MonitorState.UP, MonitorState.UNKNOWN),
        (RESUMED_AT + INTERVAL, MonitorState.UNKNOWN, MonitorState.UP),
    ]
    assert not Incident.objects.filter(monitor=monitor).exists()
