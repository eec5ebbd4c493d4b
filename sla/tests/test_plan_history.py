"""A client's plan history: which step judges a window, so past windows keep their plan."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from monitoring.models import Monitor, MonitorState, StateChange
from sla.examples import install_example_plans
from sla.models import CarePlan, ClientPlan
from sla.periods import parse_period
from sla.plan_history import assignment_for, plan_history
from sla.report import client_sla
from tenancy.models import Client

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)  # every period below is over


def plan(client: Client, slug: str) -> CarePlan:
    return CarePlan.objects.get(organization=client.organization, slug=slug)


def give(client: Client, steps: Sequence[tuple[date | None, str | None]]) -> None:
    for starts_on, slug in steps:
        chosen = plan(client, slug) if slug is not None else None
        ClientPlan.objects.create(client=client, plan=chosen, starts_on=starts_on)


def outage(monitor: Monitor, start: datetime, length: timedelta) -> None:
    StateChange.objects.create(monitor=monitor, at=start, from_state="up", to_state="down")
    StateChange.objects.create(monitor=monitor, at=start + length, from_state="down", to_state="up")


@pytest.fixture
def plans(world) -> Client:
    """The three example plans in UTC; client A's home page watched and up since 2026."""
    install_example_plans(world.agency)
    CarePlan.objects.filter(organization=world.agency).update(time_zone="UTC")
    since = datetime(2026, 1, 1, tzinfo=UTC)
    Monitor.objects.filter(pk=world.monitor_a.pk).update(created_at=since, state=MonitorState.UP)
    StateChange.objects.create(
        monitor=world.monitor_a, at=since, from_state="unknown", to_state="up"
    )
    return world.client_a


MARCH_1, MARCH_15 = date(2026, 3, 1), date(2026, 3, 15)
UPGRADE = [(None, "startup"), (MARCH_1, "enterprise")]


@pytest.mark.parametrize(
    ("steps", "asked", "judged"),
    [
        # Start-up until 1 March, then Enterprise: the past keeps Start-up's months.
        (UPGRADE, "2026-01", ("startup", "2026-01")),
        (UPGRADE, "2026-02", ("startup", "2026-02")),
        (UPGRADE, "2026-05", ("enterprise", "2026-Q2")),
        (UPGRADE, "2026-Q2", ("enterprise", "2026-Q2")),
        # A quarterly plan from 1 March judges its quarter (the months before overlap it).
        (UPGRADE, "2026-03", ("enterprise", "2026-Q1")),
        # A change dated 15 March judges all of March, and a quarterly one all of Q1.
        ([(None, "startup"), (MARCH_15, "seasonal-shop")], "2026-03", ("seasonal-shop", "2026-03")),
        ([(None, "startup"), (MARCH_15, "seasonal-shop")], "2026-02", ("startup", "2026-02")),
        ([(None, "startup"), (MARCH_15, "enterprise")], "2026-03", ("enterprise", "2026-Q1")),
        # A monthly plan that replaced a quarterly one in the quarter judges that quarter.
        (
            [(None, "enterprise"), (MARCH_15, "seasonal-shop")],
            "2026-01",
            ("seasonal-shop", "2026-Q1"),
        ),
        (
            [(None, "enterprise"), (MARCH_15, "seasonal-shop")],
            "2026-03",
            ("seasonal-shop", "2026-03"),
        ),
        (
            [(None, "enterprise"), (MARCH_15, "seasonal-shop")],
            "2026-04",
            ("seasonal-shop", "2026-04"),
        ),
        # "No plan" from July: July has none; June keeps the plan.
        ([(None, "seasonal-shop"), (date(2026, 7, 1), None)], "2026-07", (None, "2026-07")),
        (
            [(None, "seasonal-shop"), (date(2026, 7, 1), None)],
            "2026-06",
            ("seasonal-shop", "2026-06"),
        ),
        ([(None, "enterprise"), (date(2026, 7, 1), None)], "2026-07", (None, "2026-07")),
        ([(None, "enterprise"), (date(2026, 7, 1), None)], "2026-06", ("enterprise", "2026-Q2")),
        # … and dated inside a quarter, it takes the whole quarter's plan away.
        ([(None, "enterprise"), (date(2026, 8, 15), None)], "2026-07", (None, "2026-07")),
        # No plan first, then a plan: the earlier months have none.
        ([(None, None), (date(2026, 4, 1), "seasonal-shop")], "2026-03", (None, "2026-03")),
        # Before the first step there is no plan, unless the step falls in the window.
        ([(date(2026, 11, 1), "seasonal-shop")], "2026-10", (None, "2026-10")),
        ([(MARCH_15, "enterprise")], "2026-01", ("enterprise", "2026-Q1")),
    ],
)
def test_it_picks_the_step_that_judges_each_period(plans, steps, asked, judged) -> None:
    give(plans, steps)
    judgement = plan_history(plans).judge(parse_period(asked, "Europe/Warsaw"))
    slug = judgement.plan.slug if judgement.plan is not None else None
    assert (slug, judgement.window.label) == judged
    # The window is read in the judging plan's zone; without one, the installation's.
    assert judgement.window.time_zone == ("UTC" if slug else "Europe/Warsaw")
    found = assignment_for(plans, parse_period(asked, "UTC"))
    assert (found.plan.slug if found and found.plan else None) == slug


def test_it_keeps_januarys_statement_when_the_client_is_upgraded_in_march(plans, world) -> None:
    """Two hours down on a working Wednesday of January: 158 of Start-up's 160 hours."""
    give(plans, [(None, "startup")])
    outage(world.monitor_a, datetime(2026, 1, 14, 10, tzinfo=UTC), timedelta(hours=2))
    january = parse_period("2026-01", "UTC")
    before = client_sla(plans, january, now=NOW)
    give(plans, [(MARCH_1, "enterprise")])
    after = client_sla(plans, january, now=NOW)
    assert after.window == before.window
    assert after.plan is not None and after.plan.slug == "startup"
    window = after.window
    assert window is not None and window.period.label == "2026-01"
    assert window.target == Decimal("99.5")
    assert window.figures.percent_display() == "98.750"
    # Below 99 %: 25 % of Start-up's fee for one month.
    assert (window.credit.percent, window.credit.fee) == (Decimal(25), Decimal(490))
    assert window.credit.amount == Decimal("122.50")


def test_it_judges_the_second_quarter_under_enterprise(plans, world) -> None:
    give(plans, UPGRADE)
    outage(world.monitor_a, datetime(2026, 4, 11, 3, tzinfo=UTC), timedelta(hours=2))
    report = client_sla(plans, parse_period("2026-05", "UTC"), now=NOW)
    assert report.plan is not None and report.plan.slug == "enterprise"
    assert report.assignment is not None and report.assignment.starts_on == MARCH_1
    window = report.window
    assert window is not None and window.period.label == "2026-Q2"
    assert window.target == Decimal("99.95")
    # 2 h of the 2184 h of Q2, around the clock (Start-up would not count a Saturday night).
    assert window.figures.down == timedelta(hours=2)
    assert window.figures.percent_display() == "99.908"
    enterprise = plan(plans, "enterprise")
    assert window.credit.fee == enterprise.monthly_fee * 3
    assert window.credit.percent == Decimal(10)


def test_it_judges_all_of_march_by_a_change_dated_the_fifteenth(plans, world) -> None:
    give(plans, [(None, "startup"), (MARCH_15, "seasonal-shop")])
    # A Tuesday evening: outside Start-up's hours, counted around the clock by the new plan.
    outage(world.monitor_a, datetime(2026, 3, 3, 20, tzinfo=UTC), timedelta(hours=1))
    report = client_sla(plans, parse_period("2026-03", "UTC"), now=NOW)
    assert report.plan is not None and report.plan.slug == "seasonal-shop"
    assert report.window is not None and report.window.period.label == "2026-03"
    assert report.window.figures.down == timedelta(hours=1)
    assert report.window.target == Decimal("99.9")


def test_it_gives_no_assessment_from_a_no_plan_step(plans, world) -> None:
    give(plans, [(None, "seasonal-shop"), (date(2026, 7, 1), None)])
    outage(world.monitor_a, datetime(2026, 7, 3, 20, tzinfo=UTC), timedelta(hours=1))
    july = client_sla(plans, parse_period("2026-07", "UTC"), now=NOW)
    assert (july.plan, july.assignment, july.window) == (None, None, None)
    assert july.figures.down == timedelta(hours=1)  # measured all the same, around the clock
    assert july.period.time_zone == "Europe/Warsaw"
    june = client_sla(plans, parse_period("2026-06", "UTC"), now=NOW)
    assert june.window is not None and june.window.target == Decimal("99.9")


def test_it_names_the_current_step_and_the_scheduled_ones(plans) -> None:
    give(plans, [(None, "startup"), (MARCH_1, "enterprise"), (date(2026, 7, 1), None)])
    history = plan_history(plans)
    startup, enterprise, ending = history.steps
    february = history.current(datetime(2026, 2, 10, tzinfo=UTC))
    assert february.step == startup and february.window.label == "2026-02"
    assert [history.is_scheduled(s, february) for s in history.steps] == [False, True, True]
    may = history.current(datetime(2026, 5, 10, tzinfo=UTC))
    assert may.step == enterprise and may.window.label == "2026-Q2"
    assert [history.is_scheduled(s, may) for s in history.steps] == [False, False, True]
    august = history.current(datetime(2026, 8, 10, tzinfo=UTC))
    assert august.step == ending and august.plan is None and august.upcoming is None


def test_it_has_one_step_a_day_and_one_since_always(plans) -> None:
    give(plans, [(None, "startup"), (MARCH_1, "enterprise")])
    for starts_on in (None, MARCH_1):
        with pytest.raises(IntegrityError), transaction.atomic():
            ClientPlan.objects.create(client=plans, plan=None, starts_on=starts_on)
    assert ClientPlan.objects.filter(client=plans).count() == 2


def test_it_judges_the_month_begun_in_the_plan_s_zone_when_the_installation_s_is_ahead(
    plans, settings
):
    """At 23:30 UTC on 30 November it is 1 December in Warsaw, and a plan read in UTC from
    1 December has not begun: the current window is one that has (it asked for December in
    the plan's zone, which had not begun, and every SLA figure of the client failed)."""
    settings.TIME_ZONE = "Europe/Warsaw"
    give(plans, [(date(2026, 12, 1), "startup")])
    now = datetime(2026, 11, 30, 23, 30, tzinfo=UTC)
    judgement = plan_history(plans).current(now)
    assert judgement.window.start <= now
    assert judgement.plan is None
    assert judgement.upcoming is not None and judgement.upcoming.starts_on == date(2026, 12, 1)
    client_sla(plans, judgement.window, now=now, judgement=judgement)  # no PeriodError
