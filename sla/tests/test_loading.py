"""The loader: StateChange rows, creation times and maintenance windows → timelines."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time, timedelta

import time_machine
from hypothesis import given
from hypothesis import strategies as st

from incidents.maintenance import maintenance_intervals
from incidents.models import MaintenanceWindow
from monitoring.models import CheckKind, EngineRun, Monitor, MonitorState, StateChange
from sla.availability import availability
from sla.calendar import Calendar
from sla.loading import maintenance_by_site, monitor_timelines, overlay_unknown, site_timelines
from sla.timelines import combine

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
        with django_assert_num_queries(3):  # the changes, the engine's runs, the pauses
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
    assert figures.unknown == timedelta(minutes=1)  # home created, not yet checked
    assert figures.unmonitored == END - NOW  # after now: nothing yet (no known_until given)
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


# --- time no probe engine was running ------------------------------------------------------


def engine_run(started: datetime, seen: datetime, stopped: datetime | None = None) -> None:
    EngineRun.objects.create(
        started_at=started, last_seen_at=seen, stopped_at=stopped, host="probe-1", pid=4242
    )


def test_it_shows_time_no_engine_ran_as_unknown_whatever_the_log_says(
    world, django_assert_num_queries
) -> None:
    home = world.monitor_a
    Monitor.objects.filter(pk=home.pk).update(created_at=START - timedelta(days=30))
    home.refresh_from_db()
    cron = Monitor.objects.create(
        site=world.site_a, name="Backup", kind=CheckKind.HEARTBEAT, url="token-1"
    )
    Monitor.objects.filter(pk=cron.pk).update(
        created_at=START - timedelta(days=30), first_ping_at=START - timedelta(days=29)
    )
    cron.refresh_from_db()
    flips(
        home,
        (START - timedelta(days=29), MonitorState.UNKNOWN, MonitorState.UP),
        (at(5, 10, 30), MonitorState.UP, MonitorState.DOWN),  # while no engine ran
        (at(5, 12), MonitorState.DOWN, MonitorState.UP),
    )
    flips(cron, (START - timedelta(days=29), MonitorState.UNKNOWN, MonitorState.UP))
    engine_run(START - timedelta(days=30), at(5, 10), stopped=at(5, 10))  # stopped cleanly
    engine_run(at(5, 11), NOW - timedelta(seconds=5))  # running now
    with time_machine.travel(NOW, tick=False):
        with django_assert_num_queries(3):  # changes, runs, pauses: not one per monitor
            timelines = monitor_timelines([home, cron], START, END)
        sites = site_timelines([home, cron], START, END)
    assert timelines[home.pk] == [
        (START, at(5, 10), "up"),
        (at(5, 10), at(5, 11), "unknown"),  # the recorded up, then down: nobody checked
        (at(5, 11), at(5, 12), "down"),
        (at(5, 12), NOW, "up"),
    ]
    assert timelines[cron.pk] == [
        (START, at(5, 10), "up"),
        (at(5, 10), at(5, 11), "unknown"),  # heartbeats are judged by the engine too
        (at(5, 11), NOW, "up"),
    ]
    assert sites[world.site_a.pk] == timelines[home.pk]
    figures = availability(sites[world.site_a.pk], Calendar.always(), START, END)
    assert figures.down == timedelta(hours=1)
    assert figures.unknown == timedelta(hours=1)
    assert figures.unmonitored == END - NOW
    assert figures.up == NOW - START - timedelta(hours=2)
    assert figures.outage_count == 1


def test_it_gives_an_engine_that_died_two_beats_before_its_time_is_unknown(world, settings) -> None:
    settings.SITECARE_ENGINE_BEAT_SECONDS = 30
    home = world.monitor_a
    Monitor.objects.filter(pk=home.pk).update(created_at=START - timedelta(days=30))
    home.refresh_from_db()
    flips(home, (START - timedelta(days=29), MonitorState.UNKNOWN, MonitorState.UP))
    engine_run(START - timedelta(days=30), at(8, 3))  # died: its last beat at 03:00
    engine_run(at(8, 4), NOW)
    late = Monitor.objects.create(  # created while no engine ran: a gap, then unknown
        site=world.site_a, name="Late", kind=CheckKind.HTTP, url="https://a.example/late"
    )
    Monitor.objects.filter(pk=late.pk).update(created_at=at(8, 3, 30))
    late.refresh_from_db()
    flips(late, (at(8, 3, 40), MonitorState.UNKNOWN, MonitorState.UP))  # as the log says
    with time_machine.travel(NOW, tick=False):
        timelines = monitor_timelines([home, late], START, END)
    assert timelines[home.pk] == [
        (START, at(8, 3, 1), "up"),
        (at(8, 3, 1), at(8, 4), "unknown"),
        (at(8, 4), NOW, "up"),
    ]
    assert timelines[late.pk] == [(at(8, 3, 30), at(8, 4), "unknown"), (at(8, 4), NOW, "up")]


def test_it_trusts_the_log_before_the_first_engine_run(world) -> None:
    home = world.monitor_a
    Monitor.objects.filter(pk=home.pk).update(created_at=START - timedelta(days=30))
    home.refresh_from_db()
    flips(
        home,
        (START - timedelta(days=29), MonitorState.UNKNOWN, MonitorState.UP),
        (at(2, 10), MonitorState.UP, MonitorState.DOWN),
        (at(2, 11), MonitorState.DOWN, MonitorState.UP),
    )
    engine_run(at(15, 0), NOW)  # this install started recording runs on the 15th
    with time_machine.travel(NOW, tick=False):
        timelines = monitor_timelines([home], START, END)
    assert timelines[home.pk] == [
        (START, at(2, 10), "up"),
        (at(2, 10), at(2, 11), "down"),
        (at(2, 11), NOW, "up"),
    ]


def test_it_overlays_unknown_time_on_segments_and_keeps_gaps() -> None:
    segments = [
        (at(1, 0), at(1, 4), "up"),
        (at(1, 4), at(1, 5), "down"),
        (at(1, 5), at(1, 6), "unknown"),
        (at(1, 8), at(1, 10), "up"),  # a gap from 06:00 to 08:00
    ]
    spans = [(at(1, 1), at(1, 2)), (at(1, 3), at(1, 4, 30)), (at(1, 5, 30), at(1, 9))]
    assert overlay_unknown(segments, spans) == [
        (at(1, 0), at(1, 1), "up"),
        (at(1, 1), at(1, 2), "unknown"),
        (at(1, 2), at(1, 3), "up"),
        (at(1, 3), at(1, 4, 30), "unknown"),
        (at(1, 4, 30), at(1, 5), "down"),
        (at(1, 5), at(1, 6), "unknown"),  # joined with the segment already unknown
        (at(1, 8), at(1, 9), "unknown"),  # the gap stays a gap
        (at(1, 9), at(1, 10), "up"),
    ]
    assert overlay_unknown(segments, []) is segments


STATES = st.sampled_from(["up", "down", "unknown"])


@st.composite
def timelines(draw: st.DrawFn) -> list[tuple[datetime, datetime, str]]:
    """Segments in minutes from START, in order, with gaps."""
    segments = []
    cursor = draw(st.integers(0, 30))
    for _ in range(draw(st.integers(0, 8))):
        length = draw(st.integers(1, 60))
        segments.append((START + timedelta(minutes=cursor), length, draw(STATES)))
        cursor += length + draw(st.sampled_from([0, 0, 5]))
    return [(s, s + timedelta(minutes=n), state) for s, n, state in segments]


@st.composite
def span_lists(draw: st.DrawFn) -> list[tuple[datetime, datetime]]:
    bounds = sorted(set(draw(st.lists(st.integers(0, 600), max_size=10))))
    pairs = list(zip(bounds[::2], bounds[1::2], strict=False))
    return [(START + timedelta(minutes=a), START + timedelta(minutes=b)) for a, b in pairs]


@given(timelines(), span_lists())
def test_it_makes_exactly_the_spans_unknown_and_keeps_everything_else(segments, spans) -> None:
    result = overlay_unknown(segments, spans)

    def state_at(timeline, moment: datetime) -> str | None:
        return next((state for s, e, state in timeline if s <= moment < e), None)

    for minute in range(0, 700):
        moment = START + timedelta(minutes=minute, seconds=30)
        before = state_at(segments, moment)
        hidden = any(s <= moment < e for s, e in spans)
        expected = "unknown" if before is not None and hidden else before
        assert state_at(result, moment) == expected
    assert all(s < e for s, e, _state in result)
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(result))


@given(st.lists(timelines(), max_size=4), span_lists())
def test_it_may_overlay_a_site_once_instead_of_each_of_its_monitors(members, spans) -> None:
    each = combine([overlay_unknown(member, spans) for member in members])
    assert overlay_unknown(combine(members), spans) == each
