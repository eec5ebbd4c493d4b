"""The loader: StateChange rows, creation times and maintenance windows → timelines."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import time_machine

from incidents.maintenance import maintenance_intervals
from incidents.models import MaintenanceWindow
from monitoring.models import CheckKind, Monitor, MonitorState, StateChange
from sla.availability import availability
from sla.calendar import Calendar
from sla.loading import maintenance_by_site, monitor_timelines, site_timelines

START = datetime(2026, 9, 1, tzinfo=UTC)
END = datetime(2026, 10, 1, tzinfo=UTC)
NOW = datetime(2026, 9, 20, 12, tzinfo=UTC)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 9, day, hour, minute, tzinfo=UTC)


def flips(monitor: Monitor, *changes: tuple[datetime, str, str]) -> None:
    for when, old, new in changes:
        StateChange.objects.create(monitor=monitor, at=when, from_state=old, to_state=new)
    Monitor.objects.filter(pk=monitor.pk).update(state=changes[-1][2])
    monitor.refresh_from_db()


def test_it_builds_timelines_from_the_state_change_log(world, django_assert_num_queries) -> None:
    home = world.monitor_a
    Monitor.objects.filter(pk=home.pk).update(created_at=at(3, 10))
    home.refresh_from_db()
    checkout = Monitor.objects.create(
        site=world.site_a, name="Checkout", kind=CheckKind.HTTP, url="https://a.example/c"
    )
    Monitor.objects.filter(pk=checkout.pk).update(created_at=START - timedelta(days=30))
    checkout.refresh_from_db()
    flips(
        home,
        (at(3, 10, 1), MonitorState.UNKNOWN, MonitorState.UP),
        (at(10, 8), MonitorState.UP, MonitorState.DOWN),
        (at(10, 9), MonitorState.DOWN, MonitorState.UP),
    )
    flips(
        checkout,
        (START - timedelta(days=29), MonitorState.UNKNOWN, MonitorState.UP),
        (at(10, 8, 30), MonitorState.UP, MonitorState.DOWN),
        (at(10, 10), MonitorState.DOWN, MonitorState.UP),
        (at(25, 0), MonitorState.UP, MonitorState.DOWN),  # after now: not yet happened
    )
    with time_machine.travel(NOW, tick=False):
        with django_assert_num_queries(1):
            timelines = monitor_timelines([home, checkout], START, END)
        sites = site_timelines([home, checkout], START, END)
    assert timelines[home.pk] == [
        (at(3, 10), at(3, 10, 1), "unknown"),  # created, not yet checked
        (at(3, 10, 1), at(10, 8), "up"),
        (at(10, 8), at(10, 9), "down"),
        (at(10, 9), NOW, "up"),  # nothing known after now
    ]
    assert sites[world.site_a.pk] == [
        (START, at(3, 10), "up"),  # before home existed: checkout alone
        (at(3, 10), at(3, 10, 1), "unknown"),  # home not yet checked: unknown beats up
        (at(3, 10, 1), at(10, 8), "up"),
        (at(10, 8), at(10, 10), "down"),  # overlapping outages, counted once
        (at(10, 10), NOW, "up"),
    ]
    figures = availability(sites[world.site_a.pk], Calendar.always(), START, END)
    assert figures.down == timedelta(hours=2)
    assert figures.unknown == END - NOW + timedelta(minutes=1)
    assert figures.outage_count == 1


def test_it_reads_maintenance_windows_as_the_incidents_app_does(world) -> None:
    MaintenanceWindow.objects.create(
        client=world.client_a,
        title="Updates",
        start_date=date(2026, 9, 6),
        start_time=time(2),
        duration_minutes=120,
        rrule="FREQ=WEEKLY;BYDAY=SU",
    )
    MaintenanceWindow.objects.create(
        client=world.client_a,
        site=world.site_a,
        title="Migration",
        start_date=date(2026, 9, 13),
        start_time=time(3),
        duration_minutes=180,
    )
    found = maintenance_by_site([world.site_a, world.site_b], START, END)
    assert found[world.site_a.pk] == maintenance_intervals(world.site_a, START, END)
    assert len(found[world.site_a.pk]) == 4  # four Sundays; the migration joins one of them
    assert found[world.site_b.pk] == []
