"""The SLA page: the right figures for a known timeline, who may see it, the budget chart."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from front.tests.conftest import signed_in
from incidents.models import Incident, IncidentState
from incidents.models.core import Severity
from monitoring.models import EngineRun, Monitor, MonitorState, StateChange
from sla.alerts import check_budgets
from sla.models import CarePlan, ClientPlan

WARSAW = ZoneInfo("Europe/Warsaw")
OUTAGE = timedelta(minutes=43, seconds=12)
OUTAGE_AT = datetime(2026, 9, 13, 3, 0, tzinfo=UTC)  # 05:00 in Warsaw (summer time)
AFTER_SEPTEMBER = datetime(2026, 10, 5, 12, 0, tzinfo=UTC)
SINCE = datetime(2026, 5, 31, 22, 0, tzinfo=UTC)  # midnight of 1 June in Warsaw


def outage(monitor: Monitor, at: datetime, length: timedelta) -> Incident:
    """The monitor up since June, down once for ``length`` at ``at``, with its incident."""
    Monitor.objects.filter(pk=monitor.pk).update(created_at=SINCE, state=MonitorState.UP)
    for when, old, new in (
        (SINCE, MonitorState.UNKNOWN, MonitorState.UP),
        (at, MonitorState.UP, MonitorState.DOWN),
        (at + length, MonitorState.DOWN, MonitorState.UP),
    ):
        StateChange.objects.create(monitor=monitor, at=when, from_state=old, to_state=new)
    return Incident.objects.create(
        monitor=monitor,
        state=IncidentState.RESOLVED,
        severity=Severity.CRITICAL,
        opened_at=at,
        acknowledged_at=at + timedelta(minutes=5),
        resolved_at=at + length,
    )


def give_plan(client, target: str = "99.95", **terms) -> CarePlan:
    values = {
        "name": "Shop care",
        "slug": "shop-care",
        "availability_target": Decimal(target),
        "time_zone": "Europe/Warsaw",
        "monthly_fee": Decimal(1000),
        "currency": "PLN",
        "credits": [{"below": "99.95", "percent": "10"}, {"below": "99", "percent": "25"}],
        **terms,
    }
    plan = CarePlan.objects.create(organization=client.organization, **values)
    ClientPlan.objects.create(client=client, plan=plan)
    return plan


def page(user, client, period: str | None = None) -> str:
    url = reverse("front:client_sla", args=[client.pk])
    response = signed_in(user).get(url, {"period": period} if period else {})
    assert response.status_code == 200
    return response.content.decode()


def text(html: str) -> str:
    """The page's words without tags, runs of spaces made one."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_it_shows_99_900_for_43_min_12_s_down_in_a_30_day_month(world):
    incident = outage(world.monitor_a, OUTAGE_AT, OUTAGE)
    give_plan(world.client_a, p1_response_minutes=2)
    with time_machine.travel(AFTER_SEPTEMBER, tick=False):
        html = page(world.owner, world.client_a, "2026-09")
    words = text(html)
    assert '<span class="stat__value" id="availability">99.900 %</span>' in html
    assert "Missed" in words
    assert "All times in Europe/Warsaw." in words
    assert "still running" not in words  # September is over: the figures are final
    time_facts = text(html.split('id="time"')[1].split("</dl>")[0])
    assert "Down 43 min 12 s" in time_facts
    assert "Unknown 0 s" in time_facts  # shown even when there is none
    assert "Time in scope 30 d" in time_facts
    # The budget: 0.05 % of 30 days is 21 min 36 s, overspent by as much again.
    budget = text(html.split('id="budget"')[1].split("</section>")[0])
    assert "Allowed downtime 21 min 36 s" in budget
    assert "Used 43 min 12 s (200.0 %)" in budget
    assert "overspent by 21 min 36 s" in budget
    assert "used up on 13 Sep 2026, 05:21 (Europe/Warsaw)" in budget
    # The credit: below 99.95 % gives back 10 % of the 1000 PLN fee.
    credit = text(html.split('id="credit"')[1].split("</section>")[0])
    assert "100.00 PLN" in credit
    assert "gives back 10 % of the window's fee of 1,000.00 PLN" in credit
    outages = html.split('id="outages"')[1].split("</table>")[0]
    assert "13 Sep 2026, 05:00:00" in outages  # the plan's zone, not UTC
    assert "13 Sep 2026, 05:43:12" in outages
    assert "43 min 12 s" in outages and "Shop A" in outages
    assert reverse("front:incident", args=[incident.pk]) in outages
    breaches = text(html.split('id="breaches"')[1].split("</section>")[0])
    assert "Availability — 99.95 % 99.900 % —" in breaches
    # Acknowledged after 5 minutes, against a P1 response target of 2.
    assert f"Response time P1 – critical 2 min 5 min #{incident.pk} Shop A · Home" in breaches


def test_it_counts_the_outage_against_a_plan_it_meets_and_shows_the_history(world):
    outage(world.monitor_a, OUTAGE_AT, OUTAGE)
    give_plan(world.client_a, target="99.9", credits=[])
    with time_machine.travel(AFTER_SEPTEMBER, tick=False):
        html = page(world.client_a_user, world.client_a, "2026-09")
    assert '<span class="stat__value" id="verdict">Met</span>' in html  # 99.900 ≥ 99.9
    assert "The budget lasted the window." in text(html)
    assert "No credit is owed." in text(html)
    history = html.split('id="history"')[1].split("</table>")[0]
    rows = re.findall(r"<tr>(.*?)</tr>", history, re.S)
    # The header and the months since the client was watched (June to September 2026): the
    # months before its first monitor would only say "nothing known" (review M4).
    assert len(rows) == 4 + 1
    assert "2026-06" in rows[1] and "2026-09" in rows[-1]
    assert "2025-10" not in history
    assert "99.900 %" in rows[-1] and "Met" in rows[-1]
    assert "100.000 %" in rows[-2]  # August: up all month


def test_it_marks_a_running_window_provisional_and_predicts_when_the_budget_runs_out(world):
    # 30 minutes down on 5 September; 10 days of the 30 gone at midnight of the 11th.
    outage(world.monitor_a, datetime(2026, 9, 5, 10, tzinfo=UTC), timedelta(minutes=30))
    give_plan(world.client_a, target="99.9")
    now = datetime(2026, 9, 11, tzinfo=WARSAW)
    with time_machine.travel(now, tick=False):
        html = page(world.owner, world.client_a)  # the current window by default
    words = text(html)
    assert "SLA of Client A, 2026-09" in words
    assert "The window 2026-09 is still running: its figures are provisional" in words
    # 43 min 12 s allowed, 30 min used in a third of the month: a burn rate of 2.08, and the
    # remaining 13 min 12 s lasts 792 / 1800 of 10 days = 4 d 9 h 36 min more.
    assert "Burn rate 2.08×" in words
    assert "At this rate the budget runs out on 15 Sep 2026, 09:36 (Europe/Warsaw)." in words
    assert 'rel="next"' not in html  # October has not begun
    assert "?period=2026-08" in html
    assert "Alerts sent" not in words
    # Once the sender has raised the half-budget alert, the page says so (in Warsaw time).
    with time_machine.travel(now, tick=False):
        assert check_budgets(timezone.now()) == 1
        words = text(page(world.owner, world.client_a))
    assert "Alerts sent: Half of the error budget used, 11 Sep 2026, 00:00" in words


def test_it_shows_unknown_time_separately_and_leaves_it_out_of_availability(world):
    outage(world.monitor_a, OUTAGE_AT, OUTAGE)
    give_plan(world.client_a, target="99.9")
    # The probe engine ran all along but for two hours on 20 September.
    EngineRun.objects.create(
        started_at=SINCE,
        last_seen_at=datetime(2026, 9, 20, 10, tzinfo=UTC),
        stopped_at=datetime(2026, 9, 20, 10, tzinfo=UTC),
        host="probe",
        pid=1,
    )
    EngineRun.objects.create(
        started_at=datetime(2026, 9, 20, 12, tzinfo=UTC),
        last_seen_at=AFTER_SEPTEMBER,
        host="probe",
        pid=2,
    )
    with time_machine.travel(AFTER_SEPTEMBER, tick=False):
        html = page(world.owner, world.client_a, "2026-09")
    time_facts = text(html.split('id="time"')[1].split("</dl>")[0])
    assert "Unknown 2 h" in time_facts
    assert "Up 29 d 21 h" in time_facts
    # 43 min 12 s of (30 d − 2 h): 99.89990… %, shown rounded down.
    assert 'id="availability">99.899 %</span>' in html
    sites = text(html.split('id="sites"')[1].split("</table>")[0])
    assert "Shop A 99.899 % 43 min 12 s 2 h" in sites


def test_it_shows_availability_around_the_clock_for_a_client_without_a_plan(world):
    outage(world.monitor_a, OUTAGE_AT, OUTAGE)
    with time_machine.travel(AFTER_SEPTEMBER, tick=False):
        html = page(world.owner, world.client_a, "2026-09")
    words = text(html)
    assert "This client has no care plan" in words
    assert 'id="availability">99.900 %</span>' in html
    assert 'id="budget"' not in html and 'id="credit"' not in html
    assert "Time in scope: 24/7" in words


def test_it_reports_a_bad_period_and_shows_the_current_window(world):
    give_plan(world.client_a, window="quarter")
    with time_machine.travel(AFTER_SEPTEMBER, tick=False):
        html = page(world.owner, world.client_a, "2026-13")
    assert "period: 2026-13 has no such month" in html
    assert "SLA of Client A, 2026-Q4" in text(html)


def test_it_draws_the_budget_chart_and_escapes_the_client_name(world):
    world.client_a.name = 'Shop <script>alert("x")</script> & Co'
    world.client_a.save()
    outage(world.monitor_a, OUTAGE_AT, OUTAGE)
    give_plan(world.client_a)
    with time_machine.travel(AFTER_SEPTEMBER, tick=False):
        html = page(world.owner, world.client_a, "2026-09")
    chart = html.split('<figure class="chartbox">', 2)[1].split("</figure>")[0]
    assert chart.lstrip().startswith("<svg")
    assert 'class="chart chart--budget chart--wide"' in chart
    assert 'class="chart chart--budget chart--narrow"' in chart  # the same chart for phones
    for part in ("budget-used", "budget-allowance", "budget-pace", "budget-now"):
        assert f'class="{part}"' in chart
    assert "Shop &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co" in chart
    assert "<script>" not in html


@pytest.mark.parametrize("persona", ["owner", "engineer", "client_a_user"])
def test_it_shows_a_client_s_page_to_whoever_sees_the_client(world, persona):
    give_plan(world.client_a)
    with time_machine.travel(AFTER_SEPTEMBER, tick=False):
        assert "SLA of Client A" in text(page(getattr(world, persona), world.client_a))


def test_it_answers_404_to_another_client_s_user(world):
    give_plan(world.client_a)
    intruder = signed_in(world.client_b_user)
    with time_machine.travel(AFTER_SEPTEMBER, tick=False):
        url = reverse("front:client_sla", args=[world.client_a.pk])
        assert intruder.get(url, {"period": "2026-09"}).status_code == 404
        own = intruder.get(reverse("front:client_sla", args=[world.client_b.pk]))
    assert own.status_code == 200
    assert "Client A" not in own.content.decode()


def test_it_links_the_page_from_the_client_page(world):
    html = signed_in(world.client_a_user).get(reverse("front:client", args=[world.client_a.pk]))
    assert reverse("front:client_sla", args=[world.client_a.pk]) in html.content.decode()


def test_it_judges_a_month_of_a_quarterly_plan_on_its_quarter(world):
    outage(world.monitor_a, OUTAGE_AT, OUTAGE)
    give_plan(world.client_a, target="99.95", window="quarter")
    with time_machine.travel(AFTER_SEPTEMBER, tick=False):
        html = page(world.owner, world.client_a, "2026-09")
    words = text(html)
    assert 'id="availability">99.900 %</span>' in html  # September alone
    # Q3 has 92 days: 43 min 12 s of them is 99.967… %, which meets 99.95 %.
    assert "Verdict in 2026-Q3 (99.967 %)" in words
    assert '<span class="stat__value" id="verdict">Met</span>' in html
    assert "Error budget, 2026-Q3" in words


def test_it_refuses_a_period_that_has_not_begun_and_shows_the_current_window(world):
    """Review M3: 2027-01 asked in December showed "still running … On track"."""
    give_plan(world.client_a, target="99.9")
    with time_machine.travel(AFTER_SEPTEMBER, tick=False):
        html = page(world.owner, world.client_a, "2026-12")
    words = text(html)
    assert "period: 2026-12 has not begun yet (it begins on 2026-12-01)" in words
    assert "SLA of Client A, 2026-10" in words  # the current window instead
    assert "2026-12" not in html.split('id="history"')[1].split("</table>")[0]
    assert "The window 2026-12" not in words
