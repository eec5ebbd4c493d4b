"""Stored standings (``sla.standings``) are exactly the figures worked out afresh, and are
worked out again whenever they would no longer be."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import time_machine

from incidents.models import MaintenanceWindow
from monitoring.models import MonitorState, StateChange
from monitoring.pauses import Actor, set_enabled
from sla import standings
from sla.models import ClientPlan, StandingSnapshot
from sla.overview import overview
from sla.periods import PeriodError
from sla.report import client_sla
from sla.standings import StoredStanding, current, refresh_all, snapshot_data
from sla.tests.overview_world import NOW, ORDER, Agency, build_agency, down
from tenancy.models import Client

MINUTE = timedelta(minutes=1)


def fresh(now: datetime) -> dict[str, Any]:
    """Every client's standing worked out now, as stored, by client name."""
    return {s.client.name: snapshot_data(s) for s in overview(Client.objects.all(), now=now)}


def stored(now: datetime) -> dict[str, StoredStanding]:
    return {s.client.name: s for s in current(list(Client.objects.all()), now=now)}


def assert_same_as_fresh(now: datetime) -> dict[str, StoredStanding]:
    """Each stored standing is what is worked out afresh for the moment it says it is of."""
    found = stored(now)
    for moment in {s.as_of for s in found.values()}:
        expected = fresh(moment)
        assert {n: s.data for n, s in found.items() if s.as_of == moment} == {
            n: data for n, data in expected.items() if found[n].as_of == moment
        }
    return found


def assert_same_as_sla_page(standing: StoredStanding, *, now: datetime) -> None:
    """The figures the client's SLA page shows for its current window."""
    page = client_sla(standing.client, standing.period, now=now)
    figures = standing.figures
    assert figures["window"] == page.period.label
    assert figures["availability_percent"] == page.figures.percent_display()
    if page.window is None:
        assert figures["budget"] is None
        return
    budget = figures["budget"]
    assert budget is not None
    assert budget["consumed_seconds"] == page.window.budget.consumed.total_seconds()
    assert figures["verdict"] == page.window.verdict.value
    assert figures["breaches"] == len(page.window.breaches)
    assert figures["credit"] is not None
    assert figures["credit"]["amount"] == str(page.window.credit.amount)


def pauses_and_maintenance(agency: Agency, world: Any) -> None:
    """Client A's monitor paused for a day while down, Client B in maintenance while down."""
    down(world.monitor_a, datetime(2026, 10, 7, 9, tzinfo=UTC), timedelta(hours=2))
    set_enabled(world.monitor_a, False, Actor.system(), now=datetime(2026, 10, 7, 10, tzinfo=UTC))
    set_enabled(world.monitor_a, True, Actor.system(), now=datetime(2026, 10, 8, 10, tzinfo=UTC))
    down(world.monitor_b, datetime(2026, 10, 9, 2, tzinfo=UTC), timedelta(hours=1))
    MaintenanceWindow.objects.create(
        client=agency.b,
        title="Updates",
        start_date=date(2026, 10, 9),
        start_time=time(1, 30),
        duration_minutes=120,
    )


@time_machine.travel(NOW, tick=False)
def test_it_stores_exactly_what_the_overview_and_the_sla_page_work_out(world):
    agency = build_agency(world)
    pauses_and_maintenance(agency, world)
    assert refresh_all(now=NOW) == 7
    found = assert_same_as_fresh(NOW)
    for standing in found.values():
        assert standing.as_of == NOW
        assert_same_as_sla_page(standing, now=NOW)
    assert [s.client.name for s in current(list(Client.objects.all()), now=NOW)][:5] == ORDER
    # The pause made its time unknown, the maintenance took its outage out.
    a_budget = found["Client A"].figures["budget"]
    assert a_budget is not None and a_budget["consumed_seconds"] == 60 * 60 + 60 * 60


def test_it_keeps_a_standing_while_it_holds_and_says_as_of_when(world):
    with time_machine.travel(NOW, tick=False):
        build_agency(world)
        down(world.monitor_a, NOW - timedelta(hours=1), timedelta(days=30))  # still down
        refresh_all(now=NOW)
    later = NOW + 5 * MINUTE
    with time_machine.travel(later, tick=False):
        kept = assert_same_as_fresh(later)
        # The outage has grown by five minutes since; the page says the figures are of NOW.
        assert {s.as_of for s in kept.values()} == {NOW}
        assert fresh(later)["Client A"] != kept["Client A"].data
    much_later = NOW + timedelta(minutes=11)  # past SITECARE_STANDINGS_MAX_AGE_SECONDS
    with time_machine.travel(much_later, tick=False):
        renewed = assert_same_as_fresh(much_later)
        assert {s.as_of for s in renewed.values()} == {much_later}


def test_it_works_out_a_client_again_after_a_state_change_a_pause_or_a_plan_change(world):
    with time_machine.travel(NOW, tick=False):
        agency = build_agency(world)
        refresh_all(now=NOW)
    later = NOW + MINUTE
    with time_machine.travel(later, tick=False):
        StateChange.objects.create(
            monitor=world.monitor_b, at=later, from_state=MonitorState.UP, to_state="down"
        )
        found = assert_same_as_fresh(later)
        assert found["Client B"].as_of == later
        assert found["Client A"].as_of == NOW
        set_enabled(world.monitor_a, False, Actor.system(), now=later)
        assert assert_same_as_fresh(later)["Client A"].as_of == later
        ClientPlan.objects.filter(client=agency.zeta).delete()
        ClientPlan.objects.create(client=agency.zeta, plan=agency.a.plan_steps.get().plan)
        zeta = assert_same_as_fresh(later)["Zeta"]
        assert zeta.as_of == later and zeta.assessed


def test_it_never_shows_an_ended_window_as_the_current_one(world, settings):
    settings.SITECARE_STANDINGS_MAX_AGE_SECONDS = 7200  # the window alone makes them stale
    # October's last second in Warsaw (the installation's zone, Future's month without a
    # plan); Client A's UTC October has an hour to go.
    last_second = datetime(2026, 10, 31, 22, 59, 59, tzinfo=UTC)
    with time_machine.travel(NOW, tick=False):
        build_agency(world)
    with time_machine.travel(last_second, tick=False):
        refresh_all(now=last_second)
        assert stored(last_second)["Client A"].figures["window"] == "2026-10"
    first_second = datetime(2026, 11, 1, 0, 0, 1, tzinfo=UTC)
    with time_machine.travel(first_second, tick=False):
        found = assert_same_as_fresh(first_second)
        assert found["Client A"].figures["window"] == "2026-11"
        assert found["Client A"].as_of == first_second
        # Delta's quarter (in Warsaw) goes on: its standing is still the stored one.
        assert found["Delta"].as_of == last_second
        assert found["Delta"].figures["window"] == "2026-Q4"
        # Future's plan is in force from November: it is assessed now.
        assert found["Future"].assessed


def test_it_refreshes_the_stalest_standings_in_the_senders_loop(world, settings):
    settings.SITECARE_STANDINGS_REFRESH_SECONDS = 60
    standings._last_round = None
    standings._failed.clear()
    with time_machine.travel(NOW, tick=False):
        build_agency(world)
        assert standings.handle_one_refresh(NOW) == 7  # fewer than a batch: all of them
        assert standings.handle_one_refresh(NOW + MINUTE / 2) == 0  # not due yet
    assert set(StandingSnapshot.objects.values_list("as_of", flat=True)) == {NOW}
    later = NOW + 2 * MINUTE
    StandingSnapshot.objects.filter(client__name="Zeta").update(as_of=later - MINUTE / 2)
    assert standings.handle_one_refresh(later) == 6  # Zeta's is recent enough
    assert StandingSnapshot.objects.get(client__name="Client A").as_of == later


def test_it_leaves_a_client_it_cannot_work_out_without_stopping_the_loop(world, monkeypatch):
    """A standing that raises ``PeriodError`` is logged and retried after an interval; the
    others are refreshed, and the alert sender's round goes on."""
    standings._last_round = None
    standings._failed.clear()
    with time_machine.travel(NOW, tick=False):
        agency = build_agency(world)
    real = standings.overview

    def failing_for_zeta(clients, *, now):
        if any(c.pk == agency.zeta.pk for c in clients):
            raise PeriodError("period: 2026-11 has not begun yet")
        return real(clients, now=now)

    monkeypatch.setattr(standings, "overview", failing_for_zeta)
    assert standings.handle_one_refresh(NOW) == 6
    assert not StandingSnapshot.objects.filter(client=agency.zeta).exists()
    later = NOW + 2 * MINUTE
    StandingSnapshot.objects.update(as_of=later)  # the others are fresh: Zeta alone is due
    monkeypatch.setattr(standings, "overview", real)
    assert standings.handle_one_refresh(later) == 1
    assert StandingSnapshot.objects.filter(client=agency.zeta).exists()
