"""Maintenance windows: occurrences on the local clock (both 2026 DST changes in Warsaw),
one-off and client-wide windows, validation, and the hold-then-release of outages end to end
through ``record_results``, the sweep and the alert sender to a real local webhook."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError

from incidents import sender
from incidents.maintenance import (
    handle_one_maintenance_end,
    in_maintenance,
    maintenance_intervals,
    occurrences,
    release_hold,
    scheduled,
    upcoming,
)
from incidents.models import (
    Channel,
    HeldOutage,
    Incident,
    IncidentState,
    MaintenanceWindow,
    Notification,
    NotificationState,
)
from incidents.tests.receivers import WebhookReceiver
from monitoring.failures import FailureClass
from monitoring.logic import Outcome, record_results
from monitoring.models import CheckKind, Monitor, MonitorState, StateChange
from sites.models import Site

WARSAW = ZoneInfo("Europe/Warsaw")
SPRING = date(2026, 3, 29)  # 02:00 CET → 03:00 CEST
AUTUMN = date(2026, 10, 25)  # 03:00 CEST → 02:00 CET


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0):
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def make_window(client, *, site=None, first: date, at: time, minutes: int, rule: str = ""):
    window = MaintenanceWindow(
        client=client,
        site=site,
        title="Planned upgrade",
        start_date=first,
        start_time=at,
        duration_minutes=minutes,
        rrule=rule,
    )
    window.full_clean()
    window.save()
    return window


def spans(window, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    return [(o.start, o.end) for o in occurrences(window, start, end)]


# --- occurrences on the local clock ------------------------------------------------------------


def test_it_keeps_a_weekly_sunday_window_at_two_local_across_spring_forward(world):
    window = make_window(
        world.client_a,
        site=world.site_a,
        first=date(2026, 3, 1),
        at=time(2),
        minutes=120,
        rule="FREQ=WEEKLY;BYDAY=SU",
    )
    found = occurrences(window, utc(2026, 3, 21), utc(2026, 4, 6))
    assert [(o.start, o.end) for o in found] == [
        (utc(2026, 3, 22, 1), utc(2026, 3, 22, 3)),  # 02:00–04:00 CET
        # 02:00 does not exist on the 29th: the window starts when the clock jumps to 03:00
        # CEST and still lasts two hours.
        (utc(2026, 3, 29, 1), utc(2026, 3, 29, 3)),
        (utc(2026, 4, 5, 0), utc(2026, 4, 5, 2)),  # 02:00–04:00 CEST
    ]
    assert [o.local_start.time() for o in found] == [time(2), time(3), time(2)]
    assert {o.time_zone for o in found} == {"Europe/Warsaw"}


def test_it_takes_the_first_of_the_repeated_hour_at_fall_back(world):
    window = make_window(
        world.client_a,
        site=world.site_a,
        first=date(2026, 10, 4),
        at=time(2, 30),
        minutes=60,
        rule="FREQ=WEEKLY;BYDAY=SU",
    )
    assert spans(window, utc(2026, 10, 17), utc(2026, 11, 2)) == [
        (utc(2026, 10, 18, 0, 30), utc(2026, 10, 18, 1, 30)),  # 02:30 CEST
        (utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 1, 30)),  # the first 02:30, still CEST
        (utc(2026, 11, 1, 1, 30), utc(2026, 11, 1, 2, 30)),  # 02:30 CET
    ]


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        # 01:00 CET for three hours of real time: until 05:00 CEST.
        (SPRING, (utc(2026, 3, 29, 0), utc(2026, 3, 29, 3))),
        # 01:00 CEST (Saturday 23:00 UTC) for three hours: until 03:00 CET.
        (AUTUMN, (utc(2026, 10, 24, 23), utc(2026, 10, 25, 2))),
    ],
)
def test_it_runs_a_window_that_spans_the_change_for_its_real_duration(world, day, expected):
    window = make_window(
        world.client_a,
        site=world.site_a,
        first=date(2026, 1, 4),
        at=time(1),
        minutes=180,
        rule="FREQ=WEEKLY;BYDAY=SU",
    )
    day_start = datetime.combine(day, time(), tzinfo=WARSAW)
    assert spans(window, day_start - timedelta(hours=6), day_start + timedelta(days=1)) == [
        expected
    ]
    start, end = expected
    assert in_maintenance(world.monitor_a, start) == window
    assert in_maintenance(world.monitor_a, end - timedelta(seconds=1)) == window
    assert in_maintenance(world.monitor_a, end) is None
    assert in_maintenance(world.monitor_a, start - timedelta(seconds=1)) is None


def test_it_has_one_occurrence_for_a_one_off_window(world):
    window = make_window(
        world.client_a, site=world.site_a, first=date(2026, 6, 10), at=time(22), minutes=90
    )
    assert spans(window, utc(2026, 1, 1), utc(2027, 1, 1)) == [
        (utc(2026, 6, 10, 20), utc(2026, 6, 10, 21, 30))  # 22:00 CEST
    ]
    assert in_maintenance(world.monitor_a, utc(2026, 6, 10, 21)) == window
    assert in_maintenance(world.monitor_a, utc(2026, 6, 17, 21)) is None
    # An occurrence that began before the period and still runs in it is found too.
    assert spans(window, utc(2026, 6, 10, 21), utc(2026, 6, 10, 22)) == [
        (utc(2026, 6, 10, 20), utc(2026, 6, 10, 21, 30))
    ]
    # Once over, the window is left out by its stored bounds, its rule never expanded.
    assert not MaintenanceWindow.objects.overlapping(utc(2026, 6, 13), utc(2026, 7, 1)).exists()


def test_it_reads_a_client_wide_window_in_each_site_zone(world):
    new_york = Site.objects.create(
        client=world.client_a, name="US shop", slug="us-shop", time_zone="America/New_York"
    )
    us_monitor = Monitor.objects.create(
        site=new_york, name="Home", kind=CheckKind.HTTP, url="https://us.example/"
    )
    window = make_window(
        world.client_a, first=date(2026, 7, 5), at=time(2), minutes=60, rule="FREQ=DAILY"
    )
    found = occurrences(window, utc(2026, 7, 5), utc(2026, 7, 6))
    assert [(o.start, o.time_zone) for o in found] == [
        (utc(2026, 7, 5, 0), "Europe/Warsaw"),  # 02:00 CEST
        (utc(2026, 7, 5, 6), "America/New_York"),  # 02:00 EDT
    ]
    assert in_maintenance(world.monitor_a, utc(2026, 7, 5, 0, 30)) == window
    assert in_maintenance(us_monitor, utc(2026, 7, 5, 0, 30)) is None
    assert in_maintenance(us_monitor, utc(2026, 7, 5, 6, 30)) == window
    # Client B's site is not covered by client A's window.
    assert in_maintenance(world.monitor_b, utc(2026, 7, 5, 0, 30)) is None


def test_it_applies_a_site_window_to_that_site_only(world):
    other = Site.objects.create(client=world.client_a, name="Blog", slug="blog")
    blog = Monitor.objects.create(site=other, name="Home", kind=CheckKind.HTTP, url="https://x/")
    window = make_window(
        world.client_a, site=world.site_a, first=date(2026, 7, 5), at=time(2), minutes=60
    )
    assert in_maintenance(world.monitor_a, utc(2026, 7, 5, 0, 30)) == window
    assert in_maintenance(blog, utc(2026, 7, 5, 0, 30)) is None


def test_it_merges_and_clips_the_maintenance_intervals_of_a_site(world):
    make_window(
        world.client_a,
        site=world.site_a,
        first=date(2026, 7, 1),
        at=time(2),
        minutes=120,
        rule="FREQ=DAILY",
    )
    make_window(world.client_a, first=date(2026, 7, 2), at=time(3), minutes=120)  # overlaps
    make_window(world.client_b, first=date(2026, 7, 2), at=time(5), minutes=600)  # not A's
    intervals = maintenance_intervals(world.site_a, utc(2026, 7, 1, 1), utc(2026, 7, 3, 0, 30))
    assert intervals == [
        (utc(2026, 7, 1, 1), utc(2026, 7, 1, 2)),  # clipped at the period's start
        (utc(2026, 7, 2, 0), utc(2026, 7, 2, 3)),  # 02:00–04:00 and 03:00–05:00 merged
        (utc(2026, 7, 3, 0), utc(2026, 7, 3, 0, 30)),  # clipped at the period's end
    ]


def test_it_lists_the_running_and_next_occurrences_for_display(world):
    window = make_window(
        world.client_a,
        site=world.site_a,
        first=date(2026, 3, 1),
        at=time(2),
        minutes=120,
        rule="FREQ=WEEKLY;BYDAY=SU",
    )
    shown = upcoming(window, utc(2026, 3, 22, 2), count=2)  # during the 22nd's occurrence
    assert [(o.start, o.is_running(utc(2026, 3, 22, 2))) for o in shown] == [
        (utc(2026, 3, 22, 1), True),
        (utc(2026, 3, 29, 1), False),
    ]
    assert [o.local_start for o in shown] == [datetime(2026, 3, 22, 2), datetime(2026, 3, 29, 3)]
    assert [
        (o.window, o.start) for o in scheduled(world.client_a, utc(2026, 3, 28), utc(2026, 4, 1))
    ] == [(window, utc(2026, 3, 29, 1))]
    assert scheduled(world.client_b, utc(2026, 3, 1), utc(2026, 4, 1)) == []


def test_it_expands_an_old_hourly_window_from_near_the_period(world):
    window = make_window(
        world.client_a,
        site=world.site_a,
        first=date(2000, 1, 1),
        at=time(0, 15),
        minutes=10,
        rule="FREQ=HOURLY;INTERVAL=5",
    )
    # 2026-03-28 is 229,992 wall-clock hours after 2000-01-01 (≡ 2 mod 5): starts at 23:15
    # that evening, then 04:15 and 09:15 on the 29th, after the jump to summer time.
    assert spans(window, utc(2026, 3, 28, 22), utc(2026, 3, 29, 9)) == [
        (utc(2026, 3, 28, 22, 15), utc(2026, 3, 28, 22, 25)),
        (utc(2026, 3, 29, 2, 15), utc(2026, 3, 29, 2, 25)),
        (utc(2026, 3, 29, 7, 15), utc(2026, 3, 29, 7, 25)),
    ]


# --- validation: errors name the field ---------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ("FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30", "never produces a date"),
        ("FREQ=MINUTELY", "at most hourly"),
        ("FREQ=DAILY;UNTIL=20261231T235959Z", "without the final Z"),
        ("FREQ=DAILY;BYMINUTE=0,30", "BYMINUTE takes one value"),
        ("FREQ=DAILY;INTERVAL=0", "INTERVAL must be"),
        ("FREQ=DAILY;COUNT=3;UNTIL=20261231", "COUNT or UNTIL"),
        ("BYDAY=SU", "FREQ is missing"),
        ("FREQ=WEEKLY;BYDAY=XX", "Not a valid RRULE"),
        ("DTSTART:20260101T000000\nRRULE:FREQ=DAILY", "one rule line"),
        ("FREQ=DAILY;UNTIL=20250101", "before the start"),
    ],
)
def test_it_refuses_a_bad_rule_naming_the_rrule_field(world, rule, message):
    window = MaintenanceWindow(
        client=world.client_a,
        title="x",
        start_date=date(2026, 1, 1),
        start_time=time(2),
        duration_minutes=60,
        rrule=rule,
    )
    with pytest.raises(ValidationError) as caught:
        window.full_clean()
    assert list(caught.value.message_dict) == ["rrule"]
    assert message in caught.value.message_dict["rrule"][0]


def test_it_refuses_a_site_of_another_client_and_an_absurd_year(world):
    window = MaintenanceWindow(
        client=world.client_a,
        site=world.site_b,
        title="x",
        start_date=date(1999, 12, 31),
        start_time=time(2),
        duration_minutes=0,
    )
    with pytest.raises(ValidationError) as caught:
        window.full_clean()
    assert set(caught.value.message_dict) == {"site", "start_date", "duration_minutes"}


def test_it_stores_rules_in_normal_form_with_bounds(world):
    window = make_window(
        world.client_a,
        first=date(2026, 1, 1),
        at=time(2),
        minutes=60,
        rule=" rrule:freq=daily;count=3 ",
    )
    assert window.rrule == "FREQ=DAILY;COUNT=3"
    assert window.covers_until == utc(2026, 1, 3, 3) + timedelta(days=1)
    endless = make_window(
        world.client_a, first=date(2026, 1, 1), at=time(2), minutes=60, rule="FREQ=DAILY"
    )
    assert endless.covers_until is None


# --- end to end: an outage during a window, and right after it ---------------------------------


def fail(monitor: Monitor, at: datetime) -> Outcome:
    return Outcome(monitor.pk, at, ok=False, failure_class=FailureClass.HTTP_STATUS, message="503")


def ok(monitor: Monitor, at: datetime) -> Outcome:
    return Outcome(monitor.pk, at, ok=True, status_code=200, response_ms=20.0)


def checks(monitor: Monitor, outcome, start: datetime, count: int, step: int = 10) -> None:
    """``count`` results ``step`` seconds apart, each recorded as the engine would."""
    for i in range(count):
        at = start + timedelta(seconds=step * i)
        with time_machine.travel(at, tick=False):
            record_results([outcome(monitor, at)])


def deliver_round(at: datetime) -> int:
    """One round of the alert sender's loop at ``at`` (the sweep, then the outbox)."""
    with time_machine.travel(at, tick=False):
        return sender.run(threading.Event(), once=True)


@pytest.fixture
def webhook(world):
    receiver = WebhookReceiver().start()
    Channel.objects.filter(name="A hook").update(url=receiver.url("/alerts"))
    yield receiver
    receiver.stop()


@pytest.fixture
def sunday_window(world):
    """Every Sunday 01:00 Warsaw time for 3 hours: it spans both 2026 DST changes."""
    return make_window(
        world.client_a,
        site=world.site_a,
        first=date(2026, 1, 4),
        at=time(1),
        minutes=180,
        rule="FREQ=WEEKLY;BYDAY=SU",
    )


@pytest.mark.parametrize(
    ("outage_at", "window_end"),
    [
        (utc(2026, 3, 29, 1, 30), utc(2026, 3, 29, 3)),  # 03:30 CEST, just after the jump
        (utc(2026, 10, 25, 1, 30), utc(2026, 10, 25, 2)),  # 02:30 CET, the repeated hour
    ],
)
def test_it_alerts_nobody_during_the_window_and_opens_the_incident_right_after(
    world, webhook, sunday_window, outage_at, window_end
):
    monitor = world.monitor_a
    checks(monitor, ok, outage_at - timedelta(minutes=5), 1)
    checks(monitor, fail, outage_at, 3)  # the first failure and 2 more confirm the outage

    monitor.refresh_from_db()
    assert monitor.state == MonitorState.DOWN
    change = StateChange.objects.get(monitor=monitor, to_state=MonitorState.DOWN)
    assert change.at == outage_at
    assert not Incident.objects.exists()
    assert not Notification.objects.exists()
    hold = HeldOutage.objects.get()
    assert (hold.state_change, hold.window, hold.released_at) == (change, sunday_window, None)

    # The sender keeps running through the window: nothing to send, nothing opened.
    checks(monitor, fail, window_end - timedelta(minutes=1), 1)
    assert deliver_round(window_end - timedelta(seconds=1)) == 0
    assert HeldOutage.objects.get().released_at is None
    assert webhook.requests == []

    # Right after the window, the still-failing monitor opens its incident and alerts.
    checks(monitor, fail, window_end, 1)
    assert deliver_round(window_end + timedelta(seconds=1)) == 1
    incident = Incident.objects.get()
    assert (incident.monitor, incident.state) == (monitor, IncidentState.OPEN)
    assert incident.opened_at == outage_at  # the outage's real start, not the window's end
    notification = Notification.objects.get()
    assert notification.incident == incident
    assert notification.state == NotificationState.DELIVERED
    assert webhook.wait_for(1)
    [request] = webhook.requests
    assert request.json()["title"] == notification.title
    hold.refresh_from_db()
    assert (hold.released_at, hold.incident) == (window_end + timedelta(seconds=1), incident)

    # Idempotent: later sweeps and rounds add nothing.
    assert handle_one_maintenance_end(window_end + timedelta(minutes=1)) == 0
    assert deliver_round(window_end + timedelta(minutes=2)) == 0
    assert Incident.objects.count() == 1
    assert Notification.objects.count() == 1
    assert release_hold(hold, window_end + timedelta(minutes=3)) is False

    # Its recovery resolves it as usual.
    checks(monitor, ok, window_end + timedelta(minutes=5), 2)
    incident.refresh_from_db()
    assert incident.state == IncidentState.RESOLVED


def test_it_never_alerts_for_a_monitor_that_recovered_inside_the_window(
    world, webhook, sunday_window
):
    monitor = world.monitor_a
    start = utc(2026, 3, 29, 1)
    checks(monitor, ok, start - timedelta(minutes=5), 1)
    checks(monitor, fail, start + timedelta(minutes=10), 3)
    checks(monitor, ok, start + timedelta(minutes=40), 2)
    monitor.refresh_from_db()
    assert monitor.state == MonitorState.UP
    assert list(StateChange.objects.filter(monitor=monitor).values_list("to_state", flat=True)) == [
        "up",
        "down",
        "up",
    ]

    # Released at once, even while the window still runs: there is nothing to wait for.
    assert handle_one_maintenance_end(start + timedelta(minutes=50)) == 1
    assert HeldOutage.objects.get().incident is None
    for minutes in (179, 181, 600):
        deliver_round(start + timedelta(minutes=minutes))
    assert not Incident.objects.exists()
    assert not Notification.objects.exists()
    assert webhook.requests == []


def test_it_waits_for_the_last_of_overlapping_windows_and_for_a_deleted_one_not_at_all(
    world, sunday_window
):
    monitor = world.monitor_a
    start = utc(2026, 3, 29, 1)
    longer = make_window(world.client_a, first=SPRING, at=time(4), minutes=120)  # CEST: 02–04Z
    checks(monitor, ok, start, 1)
    checks(monitor, fail, start + timedelta(minutes=5), 3)

    assert handle_one_maintenance_end(utc(2026, 3, 29, 3, 0, 5)) == 0  # the other still runs
    longer.delete()
    assert handle_one_maintenance_end(utc(2026, 3, 29, 3, 0, 10)) == 1
    assert Incident.objects.get().opened_at == start + timedelta(minutes=5)


def test_it_opens_nothing_when_the_monitor_recovered_between_the_check_and_the_claim(
    world, sunday_window
):
    monitor = world.monitor_a
    start = utc(2026, 3, 29, 1)
    checks(monitor, ok, start, 1)
    checks(monitor, fail, start + timedelta(minutes=5), 3)
    hold = HeldOutage.objects.get()
    checks(monitor, ok, utc(2026, 3, 29, 3, 0, 1), 2)  # up again, just after the window
    assert release_hold(hold, utc(2026, 3, 29, 3, 0, 30)) is True
    assert not Incident.objects.exists()


def test_it_opens_at_once_an_outage_detected_after_the_window(world, sunday_window):
    monitor = world.monitor_a
    checks(monitor, ok, utc(2026, 3, 29, 2, 59), 1)
    # The first failure falls inside the window, the confirmation after it.
    checks(monitor, fail, utc(2026, 3, 29, 2, 59, 50), 3)
    assert not HeldOutage.objects.exists()
    assert Incident.objects.get().opened_at == utc(2026, 3, 29, 2, 59, 50)
    assert Notification.objects.count() == 1


def test_it_alerts_as_usual_when_a_stored_rule_no_longer_reads(world, sunday_window, caplog):
    # Written around the validation (or refused by a stricter later version).
    MaintenanceWindow.objects.filter(pk=sunday_window.pk).update(rrule="FREQ=SECONDLY")
    monitor = world.monitor_a
    start = utc(2026, 3, 29, 1)
    checks(monitor, ok, start, 1)
    checks(monitor, fail, start + timedelta(minutes=5), 3)
    assert Incident.objects.get().monitor == monitor
    assert Notification.objects.count() == 1
    assert "unreadable rule" in caplog.text
    window = MaintenanceWindow.objects.get()
    assert upcoming(window, start) == []
