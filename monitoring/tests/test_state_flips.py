from datetime import UTC, datetime, timedelta

import time_machine

from incidents.models import Incident, IncidentState, Notification
from monitoring.failures import FailureClass
from monitoring.logic import Outcome, record_results
from monitoring.models import MonitorState, StateChange

T0 = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)


def fail(monitor_id: int, at: datetime) -> Outcome:
    return Outcome(monitor_id, at, ok=False, failure_class=FailureClass.HTTP_STATUS, message="500")


def ok(monitor_id: int, at: datetime) -> Outcome:
    return Outcome(monitor_id, at, ok=True, status_code=200, response_ms=12.0)


@time_machine.travel(T0, tick=False)
def test_it_flips_down_only_after_confirmations_and_dates_the_outage_at_the_first_failure(world):
    m = world.monitor_a
    record_results([ok(m.pk, T0)])
    m.refresh_from_db()
    assert m.state == MonitorState.UP
    assert m.confirm_down == 3  # the default: the first failure and two more
    t1 = T0 + timedelta(seconds=60)
    assert record_results([fail(m.pk, t1)]) == []
    assert record_results([fail(m.pk, t1 + timedelta(seconds=10))]) == []
    m.refresh_from_db()
    assert m.state == MonitorState.UP
    flips = record_results([fail(m.pk, t1 + timedelta(seconds=20))])
    assert [f.to_state for f in flips] == [MonitorState.DOWN]
    assert flips[0].at == t1
    incident = Incident.objects.get(monitor=m)
    assert incident.state == IncidentState.OPEN and incident.opened_at == t1
    assert Notification.objects.filter(incident=incident).count() == 1  # only client A's channel


@time_machine.travel(T0, tick=False)
def test_it_resolves_after_confirmed_recovery_and_never_opens_twice(world):
    m = world.monitor_a
    times = [T0 + timedelta(seconds=60 * i) for i in range(8)]
    record_results([ok(m.pk, times[0]), fail(m.pk, times[1]), fail(m.pk, times[2])])
    record_results([fail(m.pk, times[3]), ok(m.pk, times[4])])
    assert Incident.objects.get(monitor=m).state == IncidentState.OPEN
    record_results([ok(m.pk, times[5])])
    incident = Incident.objects.get(monitor=m)
    assert incident.state == IncidentState.RESOLVED
    assert incident.resolved_at == times[4]
    assert list(StateChange.objects.filter(monitor=m).values_list("to_state", flat=True)) == [
        "up",
        "down",
        "up",
    ]
    assert Notification.objects.filter(incident=incident).count() == 2


@time_machine.travel(T0, tick=False)
def test_it_makes_new_monitors_up_together_dated_at_their_first_success(world):
    a, b = world.monitor_a, world.monitor_b
    flips = record_results([ok(b.pk, T0 + timedelta(seconds=5)), ok(a.pk, T0)])
    assert [(f.monitor_id, f.at, f.from_state, f.to_state) for f in flips] == [
        (a.pk, T0, "unknown", "up"),
        (b.pk, T0 + timedelta(seconds=5), "unknown", "up"),
    ]
    a.refresh_from_db()
    assert (a.state, a.state_since, a.streak_count) == (MonitorState.UP, T0, 1)


@time_machine.travel(T0, tick=False)
def test_it_flips_a_new_monitor_up_then_down_within_one_batch(world):
    m = world.monitor_a
    m.confirm_down = 1
    m.save(update_fields=["confirm_down"])
    t1 = T0 + timedelta(seconds=10)
    flips = record_results([ok(m.pk, T0), fail(m.pk, t1)])
    assert [(f.from_state, f.to_state, f.at) for f in flips] == [
        ("unknown", "up", T0),
        ("up", "down", t1),
    ]
    m.refresh_from_db()
    assert m.state == MonitorState.DOWN
    assert Incident.objects.get(monitor=m).state == IncidentState.OPEN


@time_machine.travel(T0, tick=False)
def test_it_resolves_the_open_incident_of_a_monitor_reset_to_unknown(world):
    m = world.monitor_a
    record_results([fail(m.pk, T0 + timedelta(seconds=i)) for i in range(3)])
    assert Incident.objects.get(monitor=m).state == IncidentState.OPEN
    type(m).objects.filter(pk=m.pk).update(state=MonitorState.UNKNOWN)  # an operator's reset
    record_results([ok(m.pk, T0 + timedelta(seconds=60))])
    assert Incident.objects.get(monitor=m).state == IncidentState.RESOLVED
