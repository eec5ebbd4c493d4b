"""Paused time, and a heartbeat's time before its first ping, count as unknown in the SLA,
whatever state the monitor was left in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from html import unescape

import time_machine
from django.urls import reverse

from api.tests.conftest import ApiCaller
from front.tests.conftest import signed_in
from monitoring.models import CheckKind, Monitor, MonitorState, PauseAction
from monitoring.pauses import Actor, paused_spans, set_enabled
from sla.models import CarePlan, UnknownTime
from sla.periods import parse_period
from sla.report import client_sla
from sla.tests.plan_world import flips, on_example_plan, page_words, watched
from sla.verdicts import Verdict
from tenancy.models import ApiToken

SINCE = datetime(2026, 9, 1, tzinfo=UTC)
DOWN_AT = datetime(2026, 10, 2, 10, tzinfo=UTC)
PAUSED_AT = DOWN_AT + timedelta(minutes=10)
RESUMED_AT = PAUSED_AT + timedelta(days=3)
NOW = datetime(2026, 10, 10, tzinfo=UTC)
OCTOBER = parse_period("2026-10", "UTC")


def test_it_does_not_make_the_client_down_while_a_down_monitor_is_paused(world):
    """The issue's case: a monitor down at 10:00 is paused (through the API) at 10:10 and left
    paused three days in the down state; resumed, it comes back up. The client is down for
    10 minutes, not three days, and owes nothing for the pause."""
    on_example_plan(world, time_zone="UTC")
    monitor = world.monitor_a
    watched(
        monitor,
        SINCE,
        (SINCE, MonitorState.UNKNOWN, MonitorState.UP),
        (DOWN_AT, MonitorState.UP, MonitorState.DOWN),
        state=MonitorState.DOWN,
    )
    _token, raw = ApiToken.issue(world.engineer, "ops")
    with time_machine.travel(PAUSED_AT, tick=False):
        assert (
            ApiCaller(raw).patch(f"/monitors/{monitor.pk}", {"enabled": False}).status_code == 200
        )
    while_paused = client_sla(world.client_a, OCTOBER, now=PAUSED_AT + timedelta(days=1)).window
    assert while_paused is not None
    assert while_paused.figures.down == timedelta(minutes=10)
    assert while_paused.figures.unknown == timedelta(days=1)
    with time_machine.travel(RESUMED_AT, tick=False):
        assert ApiCaller(raw).patch(f"/monitors/{monitor.pk}", {"enabled": True}).status_code == 200
    # The resume made it unknown (monitoring.logic.forget_state); its first check is up.
    flips(monitor, (RESUMED_AT + timedelta(minutes=1), MonitorState.UNKNOWN, MonitorState.UP))
    window = client_sla(world.client_a, OCTOBER, now=NOW).window
    assert window is not None
    # Down before the pause only: the minute from the resume to the first check is unknown.
    assert window.figures.down == timedelta(minutes=10)
    assert window.figures.unknown == timedelta(days=3, minutes=1)
    # 10 min down in the 6 days judged is above the pace 99.9 % allows, not yet a miss.
    assert window.verdict == Verdict.AT_RISK
    assert window.credit.amount == Decimal("0.00")
    assert window.budget.consumed == timedelta(minutes=10)


def test_it_keeps_a_pause_that_began_before_the_window_and_one_still_running(world):
    on_example_plan(world, time_zone="UTC")
    monitor = world.monitor_a
    watched(
        monitor, SINCE, (SINCE, MonitorState.UNKNOWN, MonitorState.DOWN), state=MonitorState.DOWN
    )
    with time_machine.travel(datetime(2026, 9, 20, tzinfo=UTC), tick=False):
        set_enabled(monitor, False, Actor.web(world.owner))
    figures = client_sla(world.client_a, OCTOBER, now=NOW).figures
    assert figures.down == timedelta(0)
    assert figures.unknown == NOW - OCTOBER.start  # paused all month so far
    assert figures.percent is None  # nothing known: no figure invented


def test_it_counts_a_heartbeats_time_before_its_first_ping_as_unknown(world):
    """A heartbeat made on 1 October whose job first pinged on the 3rd: the engine judged it
    late (down) from the 2nd, but before any ping there was no job to be late."""
    on_example_plan(world, time_zone="UTC")
    Monitor.objects.filter(pk=world.monitor_a.pk).update(critical=False)
    beat = Monitor.objects.create(
        site=world.site_a, name="Backup", kind=CheckKind.HEARTBEAT, url="token-1"
    )
    made, late, pinged = (datetime(2026, 10, d, tzinfo=UTC) for d in (1, 2, 3))
    watched(
        beat,
        made,
        (made, MonitorState.UNKNOWN, MonitorState.UP),
        (late, MonitorState.UP, MonitorState.DOWN),
        (pinged, MonitorState.DOWN, MonitorState.UP),
    )
    never = client_sla(world.client_a, OCTOBER, now=NOW).figures
    assert (never.down, never.up, never.unknown) == (timedelta(0), timedelta(0), NOW - made)
    Monitor.objects.filter(pk=beat.pk).update(first_ping_at=pinged)
    figures = client_sla(world.client_a, OCTOBER, now=NOW).figures
    assert figures.down == timedelta(0)
    assert figures.unknown == pinged - made
    assert figures.up == NOW - pinged


def test_it_reads_paused_spans_from_pauses_and_resumes() -> None:
    start, end = datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC)
    day = timedelta(days=1)
    paused, resumed = PauseAction.PAUSED, PauseAction.RESUMED
    events = [
        (start - day, paused),  # before the period, still paused at its start
        (start + day, resumed),
        (start + 2 * day, paused),
        (start + 3 * day, paused),  # paused again: changes nothing
        (start + 4 * day, resumed),
        (start + 5 * day, resumed),  # resumed again: changes nothing
        (start + 6 * day, paused),  # to the end of the period
    ]
    assert paused_spans(events, start, end) == [
        (start, start + day),
        (start + 2 * day, start + 4 * day),
        (start + 6 * day, end),
    ]
    assert paused_spans([], start, end) == []


def test_it_judges_a_site_by_its_other_monitors_while_one_is_paused(world):
    """Pausing a secondary check says nothing about the site: the home page, still checked
    and up, decides; only when every monitor of the site is paused is the site unknown."""
    on_example_plan(world, time_zone="UTC")
    home = world.monitor_a
    checkout = Monitor.objects.create(
        site=world.site_a, name="Checkout", kind=CheckKind.HTTP, url="https://a.example/pay"
    )
    Monitor.objects.filter(pk__in=[home.pk, checkout.pk]).update(
        created_at=SINCE, state=MonitorState.UP
    )
    flips(home, (SINCE, MonitorState.UNKNOWN, MonitorState.UP))
    flips(checkout, (SINCE, MonitorState.UNKNOWN, MonitorState.UP))
    with time_machine.travel(PAUSED_AT, tick=False):
        set_enabled(checkout, False, Actor.system())
    with time_machine.travel(PAUSED_AT + timedelta(days=1), tick=False):
        set_enabled(home, False, Actor.system())
    window = client_sla(world.client_a, OCTOBER, now=PAUSED_AT + timedelta(days=2)).window
    assert window is not None
    assert window.figures.unknown == timedelta(days=1)  # both paused: the second day only
    assert window.figures.down == timedelta(0)
    assert window.figures.up == PAUSED_AT + timedelta(days=1) - OCTOBER.start


def test_it_shows_the_pauses_on_the_sla_and_monitor_pages_as_the_plan_counts_them(world):
    """Review L2: the SLA page lists the monitors paused in the period (a client's users read
    "by the agency"), and both pages say how the plan counts paused time, not always
    "unknown"."""
    plan = on_example_plan(world, time_zone="UTC")
    monitor = world.monitor_a
    watched(monitor, SINCE, (SINCE, MonitorState.UNKNOWN, MonitorState.UP))
    token, _raw = ApiToken.issue(world.engineer, "ops")
    set_enabled(monitor, False, Actor.api(world.engineer, token), now=PAUSED_AT)
    set_enabled(monitor, True, Actor.admin(world.owner), now=RESUMED_AT)
    sla_url = reverse("front:client_sla", args=[world.client_a.pk])
    monitor_url = reverse("front:monitor", args=[monitor.pk])

    def words(user, url: str) -> str:
        with time_machine.travel(NOW, tick=False):
            html = signed_in(user).get(url, {"period": "2026-10"}).content.decode()
        return unescape(page_words(html))

    agency = words(world.owner, sla_url)
    assert "Monitors paused in 2026-10" in agency
    assert "Paused through the API (token “ops”, engineer)" in agency
    assert "Resumed in the admin by owner" in agency
    assert "The SLA leaves paused time out." in agency
    client = words(world.client_a_user, sla_url)
    assert "Paused by the agency" in client and "Resumed by the agency" in client
    assert "ops" not in client.split("Monitors paused")[1]
    CarePlan.objects.filter(pk=plan.pk).update(unknown_time=UnknownTime.DOWN)
    down = "counts paused time as down where no other monitor of the site is checked"
    assert down in words(world.owner, sla_url)
    assert down in words(world.owner, monitor_url)
    Monitor.objects.filter(pk=monitor.pk).update(critical=False)
    assert "This monitor does not count for the SLA." in words(world.owner, monitor_url)
