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
