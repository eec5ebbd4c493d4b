"""The speed page: who may see it, what it shows, and its trend charts (a line per
environment, the budget line)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from front.charts import axis_number
from front.charts_speed import Series, daily_medians, trend_svg
from front.formatting import response_time
from front.speed_figures import _size
from front.tests.conftest import signed_in
from front.tests.speed_world import NEW_ENV, OLD_ENV, speed_monitor_with_trend
from monitoring.models import CheckKind, Monitor

NOW = datetime(2026, 3, 31, 12, 0, tzinfo=UTC)
WARSAW = ZoneInfo("Europe/Warsaw")


@pytest.fixture
def speed_a(world) -> Monitor:
    return speed_monitor_with_trend(world.site_a, NOW)


def page(monitor: Monitor) -> str:
    return reverse("front:monitor_speed", args=[monitor.pk])


@pytest.mark.parametrize("persona", ["owner", "engineer", "client_a_user"])
def test_it_shows_the_page_to_the_agency_and_the_clients_own_users(world, speed_a, persona):
    with time_machine.travel(NOW, tick=False):
        response = signed_in(getattr(world, persona)).get(page(speed_a))
    assert response.status_code == 200
    assert "Home speed" in response.content.decode()


def test_it_hides_client_as_page_from_client_b(world, speed_a):
    response = signed_in(world.client_b_user).get(page(speed_a))
    assert response.status_code == 404


def test_it_has_no_speed_page_for_other_kinds(world):
    response = signed_in(world.owner).get(page(world.monitor_a))
    assert response.status_code == 404


def test_it_shows_the_latest_medians_against_the_budgets_and_the_heaviest_resources(world, speed_a):
    with time_machine.travel(NOW, tick=False):
        html = signed_in(world.owner).get(page(speed_a)).content.decode()
    figures = html[html.index('id="speed-figures"') : html.index('id="speed-resources"')]
    lcp_row = figures[figures.index("Largest Contentful Paint") :].split("</tr>")[0]
    assert "3.1 s" in lcp_row and "2.5 s" in lcp_row and "over budget" in lcp_row
    cls_row = figures[figures.index("Cumulative Layout Shift") :].split("</tr>")[0]
    assert "within budget" in cls_row
    tbt_row = figures[figures.index("Total Blocking Time") :].split("</tr>")[0]
    assert "no budget" in tbt_row
    heaviest = html[html.index('id="heaviest"') :]
    assert heaviest.index("hero.jpg") < heaviest.index("app.js")
    assert "Chromium 150" in html and "Chromium 149" in html


def test_it_draws_a_line_per_environment_and_the_budget_on_the_charts(world, speed_a):
    with time_machine.travel(NOW, tick=False):
        html = signed_in(world.owner).get(page(speed_a)).content.decode()
    trends = html[html.index('id="speed-trends"') :]
    # Seven figures at two widths; each draws both environments' lines.
    assert trends.count(f'data-environment="{OLD_ENV}"') == 14
    assert trends.count(f'data-environment="{NEW_ENV}"') == 14
    # Budget lines: LCP and CLS (both widths).
    assert trends.count('class="speed-budget"') == 4


def test_it_is_linked_from_the_monitors_page_and_reads_in_polish(world, speed_a):
    browser = signed_in(world.client_a_user)
    monitor_page = browser.get(reverse("front:monitor", args=[speed_a.pk])).content.decode()
    assert f'href="{page(speed_a)}"' in monitor_page
    with time_machine.travel(NOW, tick=False):
        html = browser.get(page(speed_a), HTTP_ACCEPT_LANGUAGE="pl").content.decode()
    assert "Szybkość strony" in html and "poza budżetem" in html


def test_it_says_so_when_nothing_is_measured_yet(world):
    monitor = Monitor.objects.create(
        site=world.site_a, name="New speed", kind=CheckKind.SPEED, url="https://a.example/"
    )
    html = signed_in(world.owner).get(page(monitor)).content.decode()
    assert "No measurements yet" in html


# --- the chart, pure --------------------------------------------------------------------------


def test_it_takes_a_median_per_local_day_and_skips_days_without_a_figure():
    day = datetime(2026, 3, 10, 6, 0, tzinfo=UTC)
    measurements: list[tuple[datetime, float | None]] = [
        (day, 100.0),
        (day + timedelta(hours=1), 300.0),
        (day + timedelta(hours=2), 200.0),
        (day + timedelta(days=1), None),
        (day + timedelta(days=2), 50.0),
    ]
    points = daily_medians(measurements, WARSAW)
    assert [value for _at, value in points] == [200.0, 50.0]
    assert points[0][0].astimezone(WARSAW).hour == 12


def test_it_never_joins_two_environments_into_one_line():
    start = datetime(2026, 1, 1, tzinfo=UTC)
    end = start + timedelta(days=90)
    old = Series("old", tuple((start + timedelta(days=d), 2000.0) for d in range(1, 50)), 0)
    new = Series("new", tuple((start + timedelta(days=d), 2600.0) for d in range(50, 89)), 1)
    out = trend_svg(
        [old, new],
        start=start,
        end=end,
        tz=WARSAW,
        budget=2500.0,
        axis=lambda value, _top: response_time(value),
        title="LCP <script>",
        budget_label="budget 2.5 s",
        empty_text="nothing",
    )
    assert out.count("<polyline") == 2
    assert 'data-environment="old"' in out and 'data-environment="new"' in out
    assert 'stroke-dasharray="6 3"' in out  # the second line is told apart without colour too
    assert out.count('class="speed-budget"') == 1 and "budget 2.5 s" in out
    assert "<script>" not in out and "LCP &lt;script&gt;" in out
    # The budget line sits where 2500 ms is on the axis (which reaches 5 s).
    assert "5 s" in out
    found = re.search(r'class="speed-budget"[^>]* y1="([\d.]+)"', out)
    assert found is not None
    budget_y = float(found.group(1))
    points = re.findall(r'<polyline points="([^"]+)"', out)
    old_y = float(points[0].split()[0].split(",")[1])
    new_y = float(points[1].split()[0].split(",")[1])
    assert new_y < budget_y < old_y  # above the budget is higher on the drawing


def test_it_draws_an_empty_chart_with_its_text():
    start = datetime(2026, 1, 1, tzinfo=UTC)
    out = trend_svg(
        [],
        start=start,
        end=start + timedelta(days=90),
        tz=WARSAW,
        budget=None,
        axis=lambda value, _top: response_time(value),
        title="LCP",
        budget_label="",
        empty_text="No measurements in this period.",
    )
    assert "No measurements in this period." in out and "speed-budget" not in out


def test_it_counts_requests_in_whole_ticks():
    start = datetime(2026, 1, 1, tzinfo=UTC)
    two = Series("env", ((start + timedelta(days=1), 2.0),), 0)
    out = trend_svg(
        [two],
        start=start,
        end=start + timedelta(days=90),
        tz=WARSAW,
        budget=None,
        axis=lambda value, _top: axis_number(value),
        title="Requests",
        budget_label="",
        empty_text="",
        whole=True,
    )
    labels = re.findall(r'text-anchor="end" font-size="11" fill="[^"]+">([^<]+)<', out)
    assert labels == ["0", "1", "2", "3", "4"]


def test_it_gives_sizes_in_the_axes_decimal_units():
    assert [_size(v) for v in (512, 9945, 1_519_279)] == ["512 B", "9.9 kB", "1.5 MB"]
