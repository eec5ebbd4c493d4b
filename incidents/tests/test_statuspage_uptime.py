"""Daily uptime bars from a pinned state-change log: calendar days in the site's zone (a 23-hour
day at the spring change), no data before the monitor existed, maintenance shown as such."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest
import time_machine
from django.test import Client as HttpClient

from incidents.models import MaintenanceWindow, StatusComponent, StatusPage
from incidents.statuspage import (
    ComponentState,
    DayLevel,
    PageState,
    component_state,
    page_state,
    summarize_page,
)
from monitoring.models import CheckKind, Monitor, MonitorState, StateChange

NOW = datetime(2026, 3, 31, 10, 0, tzinfo=UTC)  # 12:00 in Warsaw (CEST)
CREATED = datetime(2026, 3, 27, 7, 0, tzinfo=UTC)  # 08:00 in Warsaw (CET)
DAY = 86_400.0


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def page(world):
    """A page with one component whose monitor has a known history.

    - created 27 March 08:00 (Warsaw), first up at 09:00;
    - down 20 minutes on 28 March, 2 hours on 30 March (one of them in maintenance).
    """
    monitor = Monitor.objects.create(
        site=world.site_a,
        name="Checkout",
        kind=CheckKind.HTTP,
        url="https://a.example/checkout",
        state=MonitorState.UP,
        created_at=CREATED,
    )
    log = [
        (utc(2026, 3, 27, 8), MonitorState.UNKNOWN, MonitorState.UP),
        (utc(2026, 3, 28, 10), MonitorState.UP, MonitorState.DOWN),
        (utc(2026, 3, 28, 10, 20), MonitorState.DOWN, MonitorState.UP),
        (utc(2026, 3, 30, 7), MonitorState.UP, MonitorState.DOWN),
        (utc(2026, 3, 30, 9), MonitorState.DOWN, MonitorState.UP),
    ]
    for at, old, new in log:
        StateChange.objects.create(monitor=monitor, at=at, from_state=old, to_state=new)
    MaintenanceWindow.objects.create(
        client=world.client_a,
        site=world.site_a,
        title="Database upgrade",
        start_date=date(2026, 3, 30),
        start_time=time(10),  # 08:00 UTC in summer time
        duration_minutes=60,
    )
    status_page = StatusPage.objects.create(
        client=world.client_a, slug="shop-a", title="Shop A", published=True
    )
    StatusComponent.objects.create(page=status_page, monitor=monitor, name="Checkout")
    return status_page


@time_machine.travel(NOW, tick=False)
def test_it_builds_ninety_local_days_with_no_data_before_the_monitor(page):
    summary = summarize_page(page)
    assert summary.time_zone == "Europe/Warsaw"
    days = summary.components[0].days
    assert len(days) == 90
    assert days[-1].day == date(2026, 3, 31)
    assert days[0].day == date(2026, 1, 1)
    by_day = {d.day: d for d in days}
    # Before the monitor existed: no data, not 100 %.
    assert by_day[date(2026, 3, 26)].level == DayLevel.NO_DATA
    assert by_day[date(2026, 3, 26)].percent is None
    assert all(d.level == DayLevel.NO_DATA for d in days[:85])
    # Created at 08:00, first known up at 09:00: 15 h known, all up.
    first = by_day[date(2026, 3, 27)]
    assert (first.unknown_seconds, first.up_seconds) == (9 * 3600, 15 * 3600)
    assert first.level == DayLevel.UP and first.percent == 100.0
    # 20 minutes down: a minor day.
    minor = by_day[date(2026, 3, 28)]
    assert minor.down_seconds == 1200
    assert minor.level == DayLevel.MINOR
    assert minor.percent == pytest.approx(100 * (DAY - 1200) / DAY)
    # The spring change: a 23-hour day.
    assert by_day[date(2026, 3, 29)].up_seconds == 23 * 3600
    # Two hours down, the second one inside the maintenance window.
    major = by_day[date(2026, 3, 30)]
    assert (major.down_seconds, major.maintenance_seconds) == (3600, 3600)
    assert major.level == DayLevel.MAJOR
    assert major.percent == pytest.approx(100 * (DAY - 3600) / DAY)
    # Today ends now: 12 hours.
    today = by_day[date(2026, 3, 31)]
    assert today.up_seconds == 12 * 3600 and today.level == DayLevel.UP


@time_machine.travel(NOW, tick=False)
def test_it_shows_unknown_days_as_no_data_in_json_and_html(page):
    http = HttpClient()
    body = http.get("/status/shop-a.json").json()
    days = body["components"][0]["days"]
    assert days[-6] == {"date": "2026-03-26", "uptime": None, "level": "no_data"}
    assert days[-4] == {"date": "2026-03-28", "uptime": 98.611, "level": "minor"}
    known = 15 * 3600 + DAY + 23 * 3600 + DAY + 12 * 3600
    expected = round(100 * (known - 1200 - 3600) / known, 3)
    assert body["components"][0]["uptime_90d"] == expected
    html = http.get("/status/shop-a/").content.decode()
    assert 'class="bar bar--no_data" title="26 Mar 2026: no data"' in html
    assert 'class="bar bar--minor" title="28 Mar 2026: 98.61 %"' in html


@time_machine.travel(NOW, tick=False)
def test_it_counts_a_badge_over_thirty_days(page):
    svg = HttpClient().get(f"/status/shop-a/badge/{page.components.get().pk}.svg")
    known = 15 * 3600 + DAY + 23 * 3600 + DAY + 12 * 3600
    assert f"{100 * (known - 4800) / known:.2f}%" in svg.content.decode()


@time_machine.travel(utc(2026, 3, 30, 8, 30), tick=False)
def test_it_shows_a_component_under_maintenance_while_a_window_runs(page):
    summary = summarize_page(page)
    assert summary.components[0].state == ComponentState.MAINTENANCE
    assert summary.state == PageState.MAINTENANCE
    assert summary.maintenance[0].title == "Database upgrade"
    assert summary.maintenance[0].running


def test_it_sums_components_into_the_page_state():
    up, down = ComponentState.OPERATIONAL, ComponentState.OUTAGE
    assert page_state([]) == PageState.NO_DATA
    assert page_state([ComponentState.NO_DATA]) == PageState.NO_DATA
    assert page_state([up, up]) == PageState.OPERATIONAL
    assert page_state([up, down, ComponentState.NO_DATA]) == PageState.PARTIAL_OUTAGE
    assert page_state([down, ComponentState.NO_DATA]) == PageState.MAJOR_OUTAGE
    assert page_state([up, ComponentState.MAINTENANCE]) == PageState.MAINTENANCE
    assert page_state([down, ComponentState.MAINTENANCE]) == PageState.PARTIAL_OUTAGE


@time_machine.travel(NOW, tick=False)
def test_it_shows_a_disabled_monitor_as_no_data(page):
    component = page.components.select_related("monitor").get()
    component.monitor.enabled = False
    assert component_state(component, in_maintenance=False) == ComponentState.NO_DATA
    component.monitor.enabled = True
    component.monitor.state = MonitorState.DOWN
    assert component_state(component, in_maintenance=False) == ComponentState.OUTAGE
    assert component_state(component, in_maintenance=True) == ComponentState.MAINTENANCE
