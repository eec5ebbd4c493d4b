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

from conftest import make_user
from front.tests.conftest import signed_in
from monitoring.logic import Outcome, record_results
from monitoring.models import Monitor
from sitecare.tests.browser import needs_chromium
from sla.models import CarePlan
from sla.tests.overview_world import NOW, build_agency
from tenancy.models import Membership, Role

pytestmark = needs_chromium
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
    # The language is the member's, not the session's: one owner reads English, one Polish.
    polish = make_user("polish-owner", world.agency, Role.OWNER)
    Membership.objects.filter(user=world.owner).update(language="en")
    Membership.objects.filter(user=polish).update(language="pl")
    return {
        "en": signed_in(world.owner).cookies["sessionid"].value,
        "pl": signed_in(polish).cookies["sessionid"].value,
    }


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


# Chart text that leaves its drawing, or a legend sample line that runs into a label.
CHART_CLASHES = """() => {
  const found = [];
  for (const svg of document.querySelectorAll('svg.chart')) {
    if (svg.getBoundingClientRect().width === 0) continue;
    const width = svg.viewBox.baseVal.width;
    const texts = [...svg.querySelectorAll('text')].map(t => [t.textContent, t.getBBox()]);
    for (const [label, box] of texts) {
      if (box.x < -0.5 || box.x + box.width > width + 0.5) found.push('cut: ' + label);
    }
    for (const line of svg.querySelectorAll('line')) {
      const y = line.y1.baseVal.value;
      const [x1, x2] = [line.x1.baseVal.value, line.x2.baseVal.value];
      if (y !== line.y2.baseVal.value || x2 - x1 > 20) continue;  // legend samples only
      for (const [label, box] of texts) {
        const overlaps = x1 < box.x + box.width && box.x < x2;
        if (overlaps && y >= box.y && y <= box.y + box.height) found.push('over: ' + label);
      }
    }
  }
  return found;
}"""


def test_it_draws_chart_legends_and_labels_inside_the_chart_without_overlap(
    sessions, narrow_paths, live_server, browser
):
    """Review L10: "Równomierne tempo" ran into its dashed sample and "95. percentyl" was
    cut at the right edge (legend widths guessed at 6 units a letter)."""
    sla_page, _overview, _plan, monitor_page = narrow_paths
    for language, session in sessions.items():
        for width in (1366, 390):
            for path in (sla_page, monitor_page):
                tab = open_page(browser, live_server.url + path, session, width)
                clashes = tab.evaluate(CHART_CLASHES)
                assert clashes == [], (language, width, path, clashes)
                tab.context.close()
