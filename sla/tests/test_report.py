"""A client's SLA: sites combined, maintenance per policy, breaches, credit and explanation."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
import time_machine

from incidents.models import Incident, IncidentState, MaintenanceWindow
from incidents.models.core import Severity
from monitoring.models import CheckKind, Monitor, MonitorState, StateChange
from sites.models import Site
from sla.examples import install_example_plans
from sla.models import CarePlan, ClientPlan
from sla.periods import parse_period
from sla.report import BreachKind, client_sla, monthly_history

NOW = datetime(2026, 10, 5, 12, tzinfo=UTC)
SEPTEMBER = parse_period("2026-09", "UTC")


def at(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, 9, day, hour, minute, second, tzinfo=UTC)


def outage(monitor: Monitor, start: datetime, end: datetime) -> None:
    StateChange.objects.create(monitor=monitor, at=start, from_state="up", to_state="down")
    StateChange.objects.create(monitor=monitor, at=end, from_state="down", to_state="up")


def watched(monitor: Monitor) -> Monitor:
    """Created long ago and up since then."""
    Monitor.objects.filter(pk=monitor.pk).update(
        created_at=datetime(2026, 1, 1, tzinfo=UTC), state=MonitorState.UP
    )
    StateChange.objects.create(
        monitor=monitor,
        at=datetime(2026, 1, 1, 0, 1, tzinfo=UTC),
        from_state="unknown",
        to_state="up",
    )
    monitor.refresh_from_db()
    return monitor


@pytest.fixture
def shop(world):
    """Client A on the seasonal-shop plan (99.9 % a month, 24/7), in UTC, with two sites."""
    install_example_plans(world.agency)
    plan = CarePlan.objects.get(organization=world.agency, slug="seasonal-shop")
    plan.time_zone = "UTC"
    plan.save()
    assignment = ClientPlan.objects.create(client=world.client_a, plan=plan)
    blog = Site.objects.create(client=world.client_a, name="Blog A", slug="blog-a", time_zone="UTC")
    blog_home = Monitor.objects.create(
        site=blog, name="Blog", kind=CheckKind.HTTP, url="https://blog.a.example/"
    )
    return assignment, watched(world.monitor_a), watched(blog_home)


def test_it_counts_overlapping_outages_of_two_sites_once(world, shop) -> None:
    _assignment, home, blog = shop
    outage(home, at(10, 10), at(10, 10, 30))
    outage(blog, at(10, 10, 20), at(10, 10, 43, 12))
    report = client_sla(world.client_a, SEPTEMBER, now=NOW)
    assert report.figures.down == timedelta(minutes=43, seconds=12)
    assert report.figures.percent_display() == "99.900"
    assert report.window is not None
    assert report.window.met is True
    assert report.window.breaches == ()
    assert report.window.credit.amount == 0
    by_site = {site.name: figures.down for site, figures in report.sites}
    assert by_site == {"Shop A": timedelta(minutes=30), "Blog A": timedelta(minutes=23, seconds=12)}


def test_it_owes_the_credit_and_explains_it_with_the_outages(world, shop) -> None:
    _assignment, home, _blog = shop
    outage(home, at(10, 10), at(10, 11))
    incident = Incident.objects.create(
        monitor=home,
        opened_at=at(10, 10, 2),
        resolved_at=at(10, 11),
        state=IncidentState.RESOLVED,
        severity=Severity.CRITICAL,
        acknowledged_at=at(10, 10, 30),
    )
    report = client_sla(world.client_a, SEPTEMBER, now=NOW)
    window = report.window
    assert window is not None
    assert window.figures.percent_display() == "99.861"
    assert window.met is False
    kinds = [(b.kind, b.incident_id) for b in window.breaches]
    # P1: response 28 min against 15, resolution 58 min against 240 (met).
    assert kinds == [(BreachKind.AVAILABILITY, None), (BreachKind.RESPONSE, incident.pk)]
    assert window.credit.percent == 10
    assert window.credit.amount == Decimal("149.00")
    assert window.credit.currency == "PLN"
    (cause,) = window.causes
    assert (cause.start, cause.end, cause.counted) == (at(10, 10), at(10, 11), timedelta(hours=1))
    assert cause.sites == ("Shop A",)
    assert cause.incident_ids == (incident.pk,)


def test_it_uses_the_agreed_fee_and_ignores_monitors_that_do_not_count(world, shop) -> None:
    assignment, home, blog = shop
    assignment.monthly_fee = Decimal(1000)
    assignment.save()
    Monitor.objects.filter(pk=blog.pk).update(critical=False)
    outage(blog, at(3, 0), at(3, 12))
    outage(home, at(4, 0), at(4, 1))
    report = client_sla(world.client_a, SEPTEMBER, now=NOW)
    assert report.figures.down == timedelta(hours=1)
    assert report.window is not None
    assert report.window.credit.amount == Decimal("100.00")
    assert [site.name for site, _figures in report.sites] == ["Shop A"]


@pytest.mark.parametrize(
    ("exclude", "down"), [(True, timedelta(minutes=30)), (False, timedelta(hours=1))]
)
def test_it_excludes_a_site_maintenance_only_for_that_site(world, shop, exclude, down) -> None:
    assignment, home, blog = shop
    CarePlan.objects.filter(pk=assignment.plan_id).update(exclude_maintenance=exclude)
    blog_site = blog.site
    MaintenanceWindow.objects.create(
        client=world.client_a,
        site=blog_site,
        title="Upgrade",
        start_date=date(2026, 9, 12),
        start_time=time(1),
        duration_minutes=120,
    )
    outage(blog, at(12, 1), at(12, 1, 30))  # inside the blog's window
    outage(home, at(12, 2), at(12, 2, 30))  # the shop has no window: counts
    report = client_sla(world.client_a, SEPTEMBER, now=NOW)
    assert report.figures.down == down
    # Only part of the client was in maintenance: nothing of the client's time is excluded.
    assert report.figures.excluded == timedelta(0)


def test_it_judges_a_quarterly_plan_on_the_quarter_and_marks_it_provisional(world, shop) -> None:
    assignment, _home, _blog = shop
    enterprise = CarePlan.objects.get(organization=world.agency, slug="enterprise")
    assignment.plan = enterprise
    assignment.save()
    october = parse_period("2026-10", "Europe/Warsaw")
    report = client_sla(world.client_a, october, now=NOW)
    assert report.window is not None
    assert report.window.period.label == "2026-Q4"
    assert report.window.complete is False
    assert report.window.budget.target == Decimal("99.950")
    # 92 days of Q4 in Warsaw, one hour longer (the clocks go back): 0.05 % of that.
    assert report.window.budget.allowed == timedelta(hours=92 * 24 + 1) / 2000


def test_it_has_no_assessment_before_the_plan_is_in_force_or_without_a_plan(world, shop) -> None:
    assignment, _home, _blog = shop
    assignment.starts_on = date(2026, 10, 1)
    assignment.save()
    before = client_sla(world.client_a, SEPTEMBER, now=NOW)
    assert before.window is None and before.plan is None  # no step judges September
    assert before.upcoming == assignment
    without = client_sla(world.client_b, SEPTEMBER, now=NOW)
    assert without.plan is None and without.window is None


def test_it_gives_a_monthly_history(world, shop) -> None:
    assignment, home, _blog = shop
    outage(home, at(10, 10), at(10, 11))
    with time_machine.travel(NOW, tick=False):
        history = monthly_history(
            world.client_a, assignment.plan, parse_period("2026-10", "UTC"), months=3, now=NOW
        )
    assert [period.label for period, _f in history] == ["2026-08", "2026-09", "2026-10"]
    assert [figures.down for _p, figures in history] == [
        timedelta(0),
        timedelta(hours=1),
        timedelta(0),
    ]
    running = history[2][1]
    assert running.up == timedelta(days=4, hours=12)
    # The rest of October is still to come, not unknown.
    assert running.to_come == timedelta(days=26, hours=12)
    assert running.unknown == timedelta(0)
    assert running.in_scope == timedelta(days=31)


def test_it_judges_a_window_the_plan_is_in_force_on_any_day_of(world, shop) -> None:
    assignment, _home, _blog = shop
    assignment.plan = CarePlan.objects.get(organization=world.agency, slug="enterprise")
    assignment.starts_on = date(2026, 12, 31)
    assignment.save()
    october = parse_period("2026-10", "Europe/Warsaw")
    report = client_sla(world.client_a, october, now=NOW)
    assert report.window is not None and report.window.period.label == "2026-Q4"
    assignment.starts_on = date(2027, 1, 1)
    assignment.save()
    assert client_sla(world.client_a, october, now=NOW).window is None


def test_it_shows_time_before_the_first_monitor_as_not_monitored_not_unknown(world, shop) -> None:
    _assignment, home, blog = shop
    # The client's monitors began on 21 September: the 20 days before are not monitored.
    began = at(21, 0)
    for monitor in (home, blog):
        StateChange.objects.filter(monitor=monitor).delete()
        Monitor.objects.filter(pk=monitor.pk).update(created_at=began, state=MonitorState.UP)
        StateChange.objects.create(monitor=monitor, at=began, from_state="unknown", to_state="up")
    report = client_sla(world.client_a, SEPTEMBER, now=NOW)
    figures = report.figures
    assert figures.unmonitored == timedelta(days=20)
    assert figures.unknown == timedelta(0)
    assert figures.up == timedelta(days=10)
    assert figures.percent == 100
