"""Everything that names a client's plan asks its history: budget alerts, the overview, the
CLI and the SLA answer of the API use the step that judges the window."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command

from api.tests.conftest import ApiCaller
from incidents.models import Notification
from incidents.models.core import EventKind
from monitoring.models import Monitor, MonitorState, StateChange
from sla.alerts import check_budgets
from sla.examples import install_example_plans
from sla.models import BudgetAlert, CarePlan, ClientPlan
from sla.overview import overview
from tenancy.models import ApiToken, Client

NOW = datetime(2026, 10, 20, 12, tzinfo=UTC)
SINCE = datetime(2026, 1, 1, tzinfo=UTC)


def give(client: Client, steps: Sequence[tuple[date | None, str | None]]) -> None:
    for starts_on, slug in steps:
        chosen = None
        if slug is not None:
            chosen = CarePlan.objects.get(organization=client.organization, slug=slug)
        ClientPlan.objects.create(client=client, plan=chosen, starts_on=starts_on)


def watched(monitor: Monitor, *downs: tuple[datetime, timedelta]) -> None:
    """Up since January, down at each given moment for the given time."""
    Monitor.objects.filter(pk=monitor.pk).update(created_at=SINCE, state=MonitorState.UP)
    StateChange.objects.create(monitor=monitor, at=SINCE, from_state="unknown", to_state="up")
    for start, length in downs:
        StateChange.objects.create(monitor=monitor, at=start, from_state="up", to_state="down")
        StateChange.objects.create(
            monitor=monitor, at=start + length, from_state="down", to_state="up"
        )


@pytest.fixture
def plans(world) -> None:
    install_example_plans(world.agency)
    CarePlan.objects.filter(organization=world.agency).update(time_zone="UTC")


HOUR_ON_5_OCTOBER = (datetime(2026, 10, 5, 10, tzinfo=UTC), timedelta(hours=1))


def test_it_raises_budget_alerts_under_the_step_judging_the_current_window(world, plans):
    # A: Seasonal shop now, Enterprise scheduled from November. An hour is more than the
    # 44 min 38 s October allows (it would be 91 % of Enterprise's 66 min for Q4).
    give(world.client_a, [(None, "seasonal-shop"), (date(2026, 11, 1), "enterprise")])
    watched(world.monitor_a, HOUR_ON_5_OCTOBER)
    # B: Start-up until Enterprise from 15 October, which judges all of Q4 (half used).
    give(world.client_b, [(None, "startup"), (date(2026, 10, 15), "enterprise")])
    watched(world.monitor_b, HOUR_ON_5_OCTOBER)
    assert check_budgets(NOW) == 3
    levels = sorted(BudgetAlert.objects.values_list("client__slug", "level"))
    assert levels == [("client-a", 50), ("client-a", 100), ("client-b", 50)]
    a_half = Notification.objects.get(channel__name="A hook", event=EventKind.BUDGET_HALF)
    assert "Seasonal shop allows 44 min" in a_half.body and "2026-10" in a_half.body
    b_half = Notification.objects.get(channel__name="B hook")
    assert "Enterprise allows 1 h 6 min" in b_half.body and "2026-Q4" in b_half.body


def test_it_raises_no_budget_alert_from_a_no_plan_step(world, plans):
    give(world.client_a, [(None, "seasonal-shop"), (date(2026, 10, 1), None)])
    watched(world.monitor_a, HOUR_ON_5_OCTOBER)
    assert check_budgets(NOW) == 0
    ClientPlan.objects.filter(client=world.client_a, plan=None).delete()
    assert check_budgets(NOW) == 2  # the step since always judges October again


def test_it_stands_each_client_in_the_overview_under_the_judging_step(world, plans):
    give(world.client_a, [(None, "startup"), (date(2026, 10, 1), "enterprise")])
    give(world.client_b, [(None, "seasonal-shop"), (date(2026, 10, 1), None)])
    found = {
        s.client.slug: s
        for s in overview(Client.objects.filter(organization=world.agency), now=NOW)
    }
    a, b = found["client-a"], found["client-b"]
    assert a.plan is not None and a.plan.slug == "enterprise"
    assert a.assignment is not None and a.assignment.starts_on == date(2026, 10, 1)
    assert (a.period.label, a.window is not None) == ("2026-Q4", True)
    assert (b.plan, b.window, b.upcoming, b.period.label) == (None, None, None, "2026-10")


@pytest.fixture
def upgraded(world, plans) -> Client:
    """Client A on Start-up until 1 March 2026, then on Enterprise."""
    give(world.client_a, [(None, "startup"), (date(2026, 3, 1), "enterprise")])
    watched(world.monitor_a)
    return world.client_a


def sla_command(*args: str) -> str:
    out = StringIO()
    call_command("sla", *args, stdout=out)
    return out.getvalue()


@time_machine.travel(NOW, tick=False)
def test_it_shows_the_plan_that_judged_the_period_in_the_cli(upgraded):
    january = sla_command("--client", "client-a", "--period", "2026-01")
    assert "Care plan Start-up: 99.5 % a month" in january
    assert "Window 2026-01" in january
    may = sla_command("--client", "client-a", "--period", "2026-05")
    assert "Care plan Enterprise: 99.95 % a quarter" in may and "Window 2026-Q2" in may
    data = json.loads(sla_command("--client", "client-a", "--period", "2026-01", "--json"))
    assert data["plan"]["slug"] == "startup" and data["assignment"]["starts_on"] is None
    assert data["period"]["time_zone"] == "UTC"


@time_machine.travel(NOW, tick=False)
def test_it_answers_the_plan_that_judged_the_period_in_the_api(world, upgraded):
    _token, raw = ApiToken.issue(world.client_a_user, "tests")
    alice = ApiCaller(raw)
    url = f"/clients/{upgraded.pk}/sla"
    january = alice.get(url, period="2026-01").json()
    assert january["plan"]["slug"] == "startup"
    assert (january["window"]["period"]["label"], january["window"]["target"]) == (
        "2026-01",
        "99.5",
    )
    may = alice.get(url, period="2026-05").json()
    assert may["plan"]["slug"] == "enterprise"
    assert may["assignment"]["starts_on"] == "2026-03-01"
    assert (may["window"]["period"]["label"], may["window"]["credit"]["fee"]) == (
        "2026-Q2",
        "20700.00",
    )
