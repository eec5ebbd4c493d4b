"""Flap detection: a monitor going up and down gives at most one open and one resolve alert per
flap window, and the incident records every flap."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest
import time_machine

from incidents.escalation import handle_one_escalations
from incidents.escalation_edit import StepSpec
from incidents.logic import handle_one_flap_settle
from incidents.models import (
    Channel,
    EventKind,
    Incident,
    IncidentEvent,
    IncidentState,
    Notification,
)
from incidents.tests.escalation_world import make_policy
from monitoring.failures import FailureClass
from monitoring.logic import Outcome, record_results
from monitoring.models import Monitor, MonitorState

T0 = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)
INTERVAL = timedelta(seconds=30)
WINDOW = timedelta(minutes=10)


@pytest.fixture
def jumpy(world) -> Monitor:
    """Monitor A, up, flipping on every single result (confirm_down = confirm_up = 1)."""
    monitor = world.monitor_a
    Monitor.objects.filter(pk=monitor.pk).update(
        state=MonitorState.UP, confirm_down=1, confirm_up=1, interval_s=30
    )
    assert world.agency.flap_window_seconds == WINDOW.total_seconds()  # the default
    return monitor


def run_checks(
    monitor: Monitor, results: Iterable[bool], start: datetime, *, settle: bool = True
) -> datetime:
    """Feed one result per interval through the store, with the sender's settle step between
    checks, as the probe engine and the alert sender would; returns the time after the last."""
    at = start
    for ok in results:
        with time_machine.travel(at, tick=False):
            outcome = Outcome(
                monitor_id=monitor.pk,
                checked_at=at,
                ok=ok,
                status_code=200 if ok else 503,
                failure_class=FailureClass.NONE if ok else FailureClass.HTTP_STATUS,
                message="" if ok else "HTTP 503",
            )
            record_results([outcome])
            if settle:
                handle_one_flap_settle(at)
        at += INTERVAL
    return at


def alerts(monitor: Monitor) -> list[tuple[str, datetime]]:
    """The (event, time) of every alert written for the monitor, to one channel (A hook)."""
    rows = Notification.objects.filter(incident__monitor=monitor, channel__name="A hook").order_by(
        "created_at", "pk"
    )
    return [(row.event, row.created_at) for row in rows]


def assert_at_most_one_of_each_per_window(sent: list[tuple[str, datetime]]) -> None:
    for kind in (EventKind.OPENED, EventKind.RESOLVED):
        times = [at for event, at in sent if event == kind]
        for earlier, later in pairwise(times):
            assert later - earlier >= WINDOW, (kind, earlier, later)
    events = [event for event, _at in sent]
    assert all(a != b for a, b in pairwise(events)), events  # they alternate


def test_it_sends_one_open_and_one_resolve_for_ten_minutes_of_flapping(world, jumpy):
    flapping = [i % 2 == 1 for i in range(20)]  # down, up, down, … every check for 10 min
    end = run_checks(jumpy, flapping, T0)
    run_checks(jumpy, [True] * 30, end)  # then up for 15 min

    sent = alerts(jumpy)
    assert [event for event, _at in sent] == [EventKind.OPENED, EventKind.RESOLVED]
    assert sent[0][1] == T0
    assert sent[1][1] == T0 + INTERVAL
    [incident] = Incident.objects.filter(monitor=jumpy)
    assert incident.state == IncidentState.RESOLVED
    assert incident.flap_count == 9
    assert incident.resolved_at == T0 + 19 * INTERVAL  # up for good since the last flap
    flaps = IncidentEvent.objects.filter(incident=incident, kind=EventKind.FLAPPED)
    assert flaps.count() == 9
    assert "flap 9" in flaps.last().message  # type: ignore[union-attr]


def test_it_keeps_at_most_one_of_each_per_window_through_half_an_hour_of_flapping(world, jumpy):
    end = run_checks(jumpy, [i % 2 == 1 for i in range(60)], T0)
    run_checks(jumpy, [True] * 30, end)

    sent = alerts(jumpy)
    assert_at_most_one_of_each_per_window(sent)
    assert sent[0] == (EventKind.OPENED, T0)
    assert sent[-1][0] == EventKind.RESOLVED  # people are finally told it is up
    assert len(sent) <= 2 * (1 + 30 // 10)
    incident = Incident.objects.get(monitor=jumpy)
    assert incident.state == IncidentState.RESOLVED
    assert incident.flap_count == 29
    # Every alert has its own key: nothing was dropped as a duplicate of an earlier one.
    keys = Notification.objects.filter(incident=incident).values_list("dedup_key", flat=True)
    assert len(set(keys)) == len(keys)


def test_it_announces_an_outage_that_stays_after_a_quick_recovery_one_window_later(world, jumpy):
    end = run_checks(jumpy, [False, True, False], T0)  # down, up, down again at once
    run_checks(jumpy, [False] * 40, end)  # and it stays down for 20 min

    sent = alerts(jumpy)
    resolved_at = T0 + INTERVAL
    assert sent == [
        (EventKind.OPENED, T0),
        (EventKind.RESOLVED, resolved_at),
        (EventKind.OPENED, resolved_at + WINDOW),  # nobody is left believing it is up
    ]
    incident = Incident.objects.get(monitor=jumpy)
    assert incident.state == IncidentState.OPEN
    assert incident.flap_count == 1
    keys = Notification.objects.filter(incident=incident).values_list("dedup_key", flat=True)
    assert len(set(keys)) == len(keys) == 3


def test_it_alerts_every_flip_when_flap_detection_is_off(world, jumpy):
    world.agency.flap_window_seconds = 0
    world.agency.save()
    run_checks(jumpy, [False, True, False, True], T0)
    sent = alerts(jumpy)
    assert [event for event, _at in sent] == [EventKind.OPENED, EventKind.RESOLVED] * 2
    assert Incident.objects.filter(monitor=jumpy).count() == 2


def test_it_opens_a_new_incident_after_a_quiet_window(world, jumpy):
    run_checks(jumpy, [False, True], T0)
    run_checks(jumpy, [False], T0 + INTERVAL + WINDOW + timedelta(seconds=1))
    assert Incident.objects.filter(monitor=jumpy).count() == 2
    assert [event for event, _at in alerts(jumpy)] == [
        EventKind.OPENED,
        EventKind.RESOLVED,
        EventKind.OPENED,
    ]


def test_it_settles_a_late_window_before_a_new_outage(world, jumpy):
    """The alert sender was not running: a down flip a window after recovery starts anew."""
    end = run_checks(jumpy, [False, True, False, True], T0)  # flapped once, up since T0+90 s
    end = run_checks(jumpy, [True] * 21, end, settle=False)  # up 10.5 min, nobody settling
    run_checks(jumpy, [False], end, settle=False)

    first, second = Incident.objects.filter(monitor=jumpy).order_by("pk")
    assert (first.state, first.resolved_at) == (IncidentState.RESOLVED, T0 + 3 * INTERVAL)
    assert second.state == IncidentState.OPEN
    assert second.flap_count == 0
    assert [event for event, _at in alerts(jumpy)] == [
        EventKind.OPENED,
        EventKind.RESOLVED,
        EventKind.OPENED,  # the new outage; the first incident's resolve was already told
    ]


def test_it_pages_the_escalation_again_when_a_flapping_outage_is_announced_again(world, jumpy):
    """Paged people were told "over" at the first recovery; the outage coming back for good
    must page them again (new messages), then step 2 after its wait, and end with one more
    all-clear when it is finally over."""
    for user in (world.owner, world.engineer):
        Channel.objects.create(
            organization=world.agency, user=user, name=user.username, url="json://127.0.0.1:9/"
        )
    make_policy(
        world,
        [StepSpec(wait_minutes=5, users=[world.owner.pk]), StepSpec(10, users=[world.engineer.pk])],
    )

    def pages(user) -> list[tuple[str, str]]:
        rows = Notification.objects.filter(channel__user=user).order_by("created_at", "pk")
        return [(row.event, row.dedup_key) for row in rows]

    end = run_checks(jumpy, [False, True, False], T0)  # down, up, down again at once
    assert [event for event, _key in pages(world.owner)] == [
        EventKind.ESCALATED,  # step 1 at the first outage
        EventKind.RESOLVED,  # "it is over", at the first recovery
    ]
    end = run_checks(jumpy, [False] * 21, end)  # still down a whole window later
    announced = T0 + INTERVAL + WINDOW
    owner = pages(world.owner)
    assert [event for event, _key in owner] == [
        EventKind.ESCALATED,
        EventKind.RESOLVED,
        EventKind.ESCALATED,  # paged again when the outage is announced again
    ]
    assert len({key for _event, key in owner}) == 3
    assert pages(world.engineer) == []

    for at in (announced + timedelta(minutes=5) - INTERVAL, announced + timedelta(minutes=5)):
        with time_machine.travel(at, tick=False):
            handle_one_escalations(at)
    assert [event for event, _key in pages(world.engineer)] == [EventKind.ESCALATED]

    run_checks(jumpy, [True] * 21, end + timedelta(minutes=5))  # up for a whole window
    assert Incident.objects.get(monitor=jumpy).state == IncidentState.RESOLVED
    assert [event for event, _key in pages(world.owner)][-1] == EventKind.RESOLVED
    assert [event for event, _key in pages(world.engineer)] == [
        EventKind.ESCALATED,
        EventKind.RESOLVED,
    ]
