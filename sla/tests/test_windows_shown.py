"""Which windows the SLA page, the API and ``sitecare sla`` judge, and how (review M3, M4,
M10, M7): a period not begun is refused; a closed month with nothing counted says nothing
met and gives no budget outlook; months before the client was watched are left out of the
history; a quarter asked of a monthly plan has no verdict of its own but one per month; the
colours follow the verdict."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from api.tests.conftest import ApiCaller, field_errors
from front.tests.conftest import signed_in
from monitoring.models import MonitorState
from sla.models import CarePlan
from sla.tests.plan_world import flips, on_example_plan, page_words, watched
from tenancy.models import ApiToken

WATCHED_FROM = datetime(2026, 10, 15, 10, 0, tzinfo=UTC)
NOVEMBER_OUTAGE = datetime(2026, 11, 10, 8, 0, tzinfo=UTC)
NOW = datetime(2026, 12, 7, 20, 0, tzinfo=UTC)


@pytest.fixture
def shop(world) -> CarePlan:
    """Client A on the seasonal-shop plan (99.9 % a month) since always, watched from
    WATCHED_FROM: up, but an hour down on 10 November (missed: below 99.9 %, 10 %)."""
    plan = on_example_plan(world)
    watched(
        world.monitor_a,
        WATCHED_FROM,
        (WATCHED_FROM, MonitorState.UNKNOWN, MonitorState.UP),
        (NOVEMBER_OUTAGE, MonitorState.UP, MonitorState.DOWN),
        (NOVEMBER_OUTAGE + timedelta(hours=1), MonitorState.DOWN, MonitorState.UP),
    )
    return plan


def page(world, period: str) -> str:
    url = reverse("front:client_sla", args=[world.client_a.pk])
    response = signed_in(world.owner).get(url, {"period": period})
    assert response.status_code == 200
    return response.content.decode()


def api(world) -> ApiCaller:
    _token, raw = ApiToken.issue(world.owner, "tests")
    return ApiCaller(raw)


def tile(style: str, name: str) -> str:
    """A summary tile of the page, as a pattern: its style and the id of its figure."""
    return rf'class="stat {style}">\s*<span class="stat__value" id="{name}">'


def cli(*args: str) -> str:
    out = StringIO()
    call_command("sla", "--client", "client-a", *args, stdout=out)
    return out.getvalue()


@time_machine.travel(NOW, tick=False)
def test_it_refuses_a_period_not_begun_in_the_api_and_the_cli(world, shop):
    answer = api(world).get(f"/clients/{world.client_a.pk}/sla", period="2027-01")
    assert answer.status_code == 422
    assert field_errors(answer) == {"period": "2027-01 has not begun yet (it begins on 2027-01-01)"}
    with pytest.raises(CommandError, match=r"period: 2027-01 has not begun yet") as raised:
        cli("--period", "2027-01")
    assert raised.value.returncode == 2


@time_machine.travel(NOW, tick=False)
def test_it_says_nothing_was_counted_in_a_closed_month_before_the_client_was_watched(world, shop):
    html = page(world, "2026-09")
    said = page_words(html)
    assert re.search(r'id="verdict">Nothing known<', html)
    assert "Every target was met" not in said
    assert "The budget lasted the window" not in said
    assert "Nothing was counted in this window: it had no budget to use and no outlook." in said
    assert "Nothing was counted in this window, so its availability target cannot be judged" in said
    assert "No credit is owed: nothing was counted in this window." in said
    printed = cli("--period", "2026-09")
    assert "lasts the window" not in printed
    assert "none: nothing counted" in printed
    data = json.loads(cli("--period", "2026-09", "--json"))
    assert data["window"]["budget"]["outlook"] == "nothing_counted"


@time_machine.travel(NOW, tick=False)
def test_it_leaves_months_before_the_client_was_watched_out_of_the_history(world, shop):
    answer = api(world).get(f"/clients/{world.client_a.pk}/sla", period="2026-12", history=12)
    assert [m["period"]["label"] for m in answer.json()["history"]] == [
        "2026-10",
        "2026-11",
        "2026-12",
    ]
    history = page(world, "2026-12").split('id="history"')[1].split("</table>")[0]
    assert "2026-09" not in history and "2026-10" in history


@time_machine.travel(NOW, tick=False)
def test_it_judges_a_quarter_of_a_monthly_plan_month_by_month(world, shop):
    html = page(world, "2026-Q4")
    said = page_words(html)
    assert (
        "This client's care plan is measured by the month: 2026-Q4 has no verdict, error budget "
        "or credit of its own. Each month is judged on its own, below."
    ) in said
    # October's verdict, budget and credit no longer stand under the quarter's figures.
    assert "Error budget, 2026-10" not in said and 'id="verdict"' not in html
    months = page_words(html.split('id="months"')[1].split("</table>")[0])
    assert "2026-10 Seasonal shop 100.000 % 99.9 % Met 0.00 PLN" in months
    assert "2026-11 Seasonal shop 99.861 % 99.9 % Missed 149.00 PLN" in months
    assert "2026-12 Seasonal shop 100.000 % 99.9 % On track 0.00 PLN" in months
    answer = api(world).get(f"/clients/{world.client_a.pk}/sla", period="2026-Q4").json()
    assert answer["window"] is None and answer["in_force"] is True
    assert [
        (m["period"]["label"], m["window"]["verdict"], m["window"]["credit"]["amount"])
        for m in answer["months"]
    ] == [
        ("2026-10", "met", "0.00"),
        ("2026-11", "missed", "149.00"),
        ("2026-12", "on_track", "0.00"),
    ]
    printed = cli("--period", "2026-Q4")
    assert "The plan is measured by the month: 2026-Q4 has no verdict" in printed
    assert "Window 2026-10" not in printed
    assert re.search(r"2026-11 +│ Seasonal shop +│ +99\.861 % +│ +99\.9 % +│ Missed", printed)
    # A month asked for keeps its own window, with no months list.
    assert (
        api(world).get(f"/clients/{world.client_a.pk}/sla", period="2026-11").json()["months"]
        is None
    )


@time_machine.travel(NOW, tick=False)
def test_it_colours_the_figures_by_the_verdict(world, shop):
    """Review M7: a running window's figure is never green, at risk is amber, not grey."""
    # 30 min down on 5 December: far above the pace 99.9 % allows, not yet a miss.
    down_at = datetime(2026, 12, 5, 9, tzinfo=UTC)
    flips(
        world.monitor_a,
        (down_at, MonitorState.UP, MonitorState.DOWN),
        (down_at + timedelta(minutes=30), MonitorState.DOWN, MonitorState.UP),
    )
    html = page(world, "2026-12")
    assert re.search(tile("stat--risk", "availability"), html)
    assert re.search(tile("stat--risk", "verdict") + "At risk", html)
    history = html.split('id="history"')[1].split("</table>")[0]
    assert '<span class="badge badge--risk">At risk</span>' in history
    assert '<span class="badge badge--down">Missed</span>' in history  # November
    assert "history-bar--risk" in html and "history-bar--missed" in html
    closed = page(world, "2026-11")
    assert re.search(tile("stat--down", "availability"), closed)
    october = page(world, "2026-10")
    assert re.search(tile("stat--up", "availability"), october)
    overview = signed_in(world.owner).get(reverse("front:sla_overview")).content.decode()
    row = overview.split('id="standings"')[1].split("</table>")[0]
    assert '<span class="badge badge--risk">At risk</span>' in row
    assert 'fill="#d97706"' in row  # the budget bar amber while at risk


def test_it_links_a_client_s_user_to_their_sla_page_from_the_top_bar(world, shop):
    """Review L12: the top bar of a client's user had no SLA link (and every page asked for
    a /favicon.ico that is not there, L11)."""
    html = signed_in(world.client_a_user).get(reverse("front:dashboard")).content.decode()
    nav = html.split('class="mainnav"')[1].split("</nav>")[0]
    assert f'href="{reverse("front:client_sla", args=[world.client_a.pk])}"' in nav
    assert f'href="{reverse("front:sla_overview")}"' not in nav  # the agency's overview
    assert 'rel="icon"' in html
