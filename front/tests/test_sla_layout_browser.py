"""The SLA pages, the plan editor and the monitor page as a browser lays them out (review M5,
M6), in Debian's Chromium: at 1366 px the overview shows every column in both languages; at
390 px no page scrolls sideways, no table hides a column, and the charts are drawn for the
narrow screen (their text about as large as the page's small print)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import time_machine

from front.tests.conftest import signed_in
from incidents.tests.test_statuspage_browser import CHROMIUM, LAUNCH_ARGS
from monitoring.logic import Outcome, record_results
from monitoring.models import Monitor
from sla.models import CarePlan
from sla.tests.overview_world import NOW, build_agency
from tenancy.models import Membership

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Debian's chromium is not installed (make test installs it)"
)
# Inside the agency's October: a running window with outages, history and credits.
MOMENT = NOW + timedelta(hours=10)


@pytest.fixture
def clock() -> Iterator[None]:
    with time_machine.travel(MOMENT):  # ticking: the live server and the browser keep time
        yield


@pytest.fixture
def sessions(world, clock) -> dict[str, str]:
    """The owner's session in each language, after building the agency and a few checks."""
    build_agency(world)
    monitor = Monitor.objects.get(pk=world.monitor_a.pk)
    record_results(
        [
            Outcome(monitor.pk, MOMENT - timedelta(minutes=i), i % 7 != 3, 200, 120.5 + i)
            for i in range(1, 30)
        ]
    )
    found = {}
    for language in ("en", "pl"):
        Membership.objects.filter(user=world.owner).update(language=language)
        found[language] = signed_in(world.owner).cookies["sessionid"].value
    return found


@pytest.fixture
def narrow_paths(world, sessions) -> list[str]:
    """The pages to lay out on a phone (read before the browser starts: Playwright's event
    loop in this thread stops Django from using the database here)."""
    plan = CarePlan.objects.filter(organization=world.agency).first()
    assert plan is not None
    return [
        f"/clients/{world.client_a.pk}/sla/",
        "/sla/",
        f"/plans/{plan.pk}/",
        f"/monitors/{world.monitor_a.pk}/",
    ]


@pytest.fixture
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            yield launched
        finally:
            launched.close()


# Tables (in a scrolling wrapper) wider than the wrapper: a column out of view.
HIDDEN_COLUMNS = """() => [...document.querySelectorAll('.table-wrap')]
    .filter(w => w.scrollWidth > w.clientWidth + 1)
    .map(w => (w.querySelector('table') || w).id || w.innerText.slice(0, 40))"""
# The font size of chart text as drawn on screen, in CSS pixels, of the charts shown.
CHART_TEXT = """() => [...document.querySelectorAll('svg.chart')]
    .filter(svg => svg.getBoundingClientRect().width > 0)
    .map(svg => svg.querySelector('text').getBoundingClientRect().height)"""


def open_page(browser: Any, url: str, session: str, width: int) -> Any:
    context = browser.new_context(viewport={"width": width, "height": 900})
    context.add_cookies([{"name": "sessionid", "value": session, "url": url}])
    tab = context.new_page()
    response = tab.goto(url)
    assert response is not None and response.status == 200, url
    tab.wait_for_load_state("networkidle")
    return tab


def test_it_shows_every_overview_column_at_1366_px_in_both_languages(
    sessions, live_server, browser
):
    for language, session in sessions.items():
        tab = open_page(browser, f"{live_server.url}/sla/", session, 1366)
        assert tab.evaluate(HIDDEN_COLUMNS) == [], language
        assert tab.evaluate("document.documentElement.scrollWidth") <= 1366, language
        tab.context.close()


def test_it_lays_out_the_sla_pages_the_plan_editor_and_the_monitor_page_at_390_px(
    sessions, narrow_paths, live_server, browser
):
    for language, session in sessions.items():
        for path in narrow_paths:
            tab = open_page(browser, live_server.url + path, session, 390)
            where = (language, path)
            assert tab.evaluate("document.documentElement.scrollWidth") <= 390, where
            assert tab.evaluate(HIDDEN_COLUMNS) == [], where
            sizes = tab.evaluate(CHART_TEXT)
            assert all(size >= 9 for size in sizes), (where, sizes)
            tab.context.close()
