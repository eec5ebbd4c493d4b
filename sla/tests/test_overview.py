"""The agency's SLA overview: every client's standing in its current window, riskiest first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

import time_machine

from sla.overview import ClientStanding, overview
from sla.report import BreachKind
from sla.tests.overview_world import APART, NOW, ORDER, build_agency
from sla.verdicts import Verdict
from tenancy.models import Client


def standings_by_name(world) -> dict[str, ClientStanding]:
    found = overview(Client.objects.filter(organization=world.agency), now=NOW)
    return {standing.client.name: standing for standing in found}


@time_machine.travel(NOW, tick=False)
def test_it_puts_used_up_budgets_first_then_by_share_used_then_by_name(world):
    build_agency(world)
    found = overview(Client.objects.filter(organization=world.agency), now=NOW)
    assert [s.client.name for s in found] == ORDER + APART
    # C used up a budget of nothing: first with A, though its share reads as 0.
    c = found[1]
    assert c.exhausted and c.consumed_share == 0
    assert [s.window is None for s in found] == [False] * len(ORDER) + [True] * len(APART)


@time_machine.travel(NOW, tick=False)
def test_it_gives_the_figures_of_a_used_up_window(world):
    build_agency(world)
    a = standings_by_name(world)["Client A"]
    assert a.period.label == "2026-10" and a.period.time_zone == "UTC"
    assert a.figures.percent == Fraction(239, 240) * 100  # 60 min down in 10 days
    assert a.figures.percent_display() == "99.583"
    assert a.met is False and a.verdict == Verdict.MISSED  # used up: missed for certain
    budget = a.budget
    assert budget is not None
    assert budget.allowed == timedelta(minutes=44, seconds=38, microseconds=400_000)
    assert budget.consumed == timedelta(minutes=60)
    assert budget.exhausted_at == datetime(2026, 10, 5, 10, 44, 38, 400_000, tzinfo=UTC)
    assert budget.runs_out_at is None
    assert a.consumed_share == Fraction(3600, Fraction(26784, 10))
    assert a.breach_count == 1
    assert a.window is not None and a.window.breaches[0].kind == BreachKind.AVAILABILITY
    assert a.credit is not None
    assert (a.credit.amount, a.credit.currency) == (Decimal("100.00"), "PLN")


@time_machine.travel(NOW, tick=False)
def test_it_gives_the_figures_of_a_window_on_course(world):
    agency = build_agency(world)
    b = standings_by_name(world)["Client B"]
    assert b.figures.percent_display() == "99.791"
    # Running, and the budget lasts at this pace: on track, nothing final said yet.
    assert b.verdict == Verdict.ON_TRACK and b.met is None
    budget = b.budget
    assert budget is not None
    assert budget.allowed == timedelta(minutes=223, seconds=12)
    assert b.consumed_share == Fraction(25, 186)
    assert budget.burn_rate == Fraction(5, 12)  # 13.4 % used in 10 of 31 days
    assert budget.exhausted_at is None and budget.runs_out_at is None  # lasts the window
    # Availability met, but the incident was acknowledged after 20 min (P1 target 5).
    assert b.window is not None
    assert [(x.kind, x.incident_id) for x in b.window.breaches] == [
        (BreachKind.RESPONSE, agency.incident_b.pk)
    ]
    assert b.breach_count == 1
    assert b.credit is not None and b.credit.amount == Decimal("0.00")


@time_machine.travel(NOW, tick=False)
def test_it_reads_each_window_in_its_plans_zone_and_length(world):
    build_agency(world)
    delta = standings_by_name(world)["Delta"]
    assert delta.period.label == "2026-Q4" and delta.period.time_zone == "Europe/Warsaw"
    assert delta.period.start == datetime(2026, 9, 30, 22, tzinfo=UTC)  # Warsaw midnight
    assert delta.figures.percent is None  # no monitor: nothing known, nothing used
    assert delta.consumed_share == 0 and delta.breach_count == 0


@time_machine.travel(NOW, tick=False)
def test_it_lists_clients_without_a_plan_in_force_apart_with_their_availability(world):
    build_agency(world)
    standings = standings_by_name(world)
    zeta, future = standings["Zeta"], standings["Future"]
    assert zeta.plan is None and zeta.window is None and zeta.budget is None
    assert zeta.breach_count is None and zeta.credit is None and zeta.met is None
    # This month in the installation's zone (Warsaw), around the clock: 242 h so far.
    assert zeta.period.label == "2026-10" and zeta.period.time_zone == "Europe/Warsaw"
    assert zeta.figures.percent_display() == "99.000"
    # Its one step starts in November: no plan judges October, the next one is named.
    assert future.plan is None and future.window is None
    assert future.upcoming is not None and future.upcoming.plan is not None
    assert future.upcoming.plan.slug == "future-care"


@time_machine.travel(NOW, tick=False)
def test_it_covers_only_the_clients_it_is_given(world):
    build_agency(world)
    found = overview(Client.objects.filter(pk=world.client_b.pk), now=NOW)
    assert [s.client.name for s in found] == ["Client B"]
    assert overview([], now=NOW) == []
