"""A transaction run's page and the step editor as Chromium lays them out, in both languages:
nothing scrolls sideways at 390 px, the waterfall's bars line up with their steps at 1366 px, the
screenshot loads under the strict CSP, and Enter in a field saves rather than moving a step.
Screenshots of each page are left in the test's tmp directory (``--basetemp`` to keep them)."""

from __future__ import annotations

from typing import Any

import pytest

from conftest import make_user
from front.tests.conftest import signed_in
from front.tests.transaction_world import seed_failed_run
from monitoring.models import CheckKind, Monitor
from sitecare.tests.browser import needs_chromium
from tenancy.models import Membership, Role

pytestmark = needs_chromium

STEPS = [
    {"action": "goto", "url": "/product/1"},
    {"action": "click", "role": "button", "name": "Add to cart"},
    {"action": "fill", "label": "Card number", "value": "${CARD}"},
]


@pytest.fixture
def pages(world) -> dict[str, Any]:
    """Sessions in each language and the pages to open (built before the browser starts)."""
    monitor, result, _shot, _trace = seed_failed_run(world)
    editable = Monitor.objects.create(
        site=world.site_a,
        name="Checkout",
        kind=CheckKind.TRANSACTION,
        url="https://a.example/",
        config={"secrets": {"CARD": "4242"}, "steps": STEPS},
    )
    polish = make_user("polish-owner", world.agency, Role.OWNER)
    Membership.objects.filter(user=world.owner).update(language="en")
    Membership.objects.filter(user=polish).update(language="pl")
    return {
        "sessions": {
            "en": signed_in(world.owner).cookies["sessionid"].value,
            "pl": signed_in(polish).cookies["sessionid"].value,
        },
        "run": f"/monitors/{monitor.pk}/runs/{result.pk}/",
        "monitor": f"/monitors/{monitor.pk}/",
        "edit": f"/monitors/{editable.pk}/edit/",
        "edited": editable.pk,
    }


def open_page(browser: Any, url: str, session: str, width: int) -> tuple[Any, list[str]]:
    context = browser.new_context(viewport={"width": width, "height": 900})
    # For the whole site (the page's own address would scope it to that path): the page's
    # screenshots are served from /artifacts/.
    site = "/".join(url.split("/")[:3]) + "/"
    context.add_cookies([{"name": "sessionid", "value": session, "url": site}])
    tab = context.new_page()
    problems: list[str] = []
    tab.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    response = tab.goto(url)
    assert response is not None and response.status == 200, url
    tab.wait_for_load_state("networkidle")
    return tab, problems


def test_it_lays_out_the_run_page_and_the_editor_in_both_languages(
    pages, live_server, browser, tmp_path
):
    for language, session in pages["sessions"].items():
        for name in ("run", "monitor", "edit"):
            for width in (1366, 390):
                tab, problems = open_page(browser, live_server.url + pages[name], session, width)
                where = (language, name, width)
                tab.screenshot(
                    path=str(tmp_path / f"{name}-{language}-{width}.png"), full_page=True
                )
                assert tab.evaluate("document.documentElement.scrollWidth") <= width, where
                assert problems == [], where  # no CSP refusal, no broken script
                if name == "run":
                    loaded = tab.evaluate(
                        "[...document.querySelectorAll('.shot img')].map(i => i.naturalWidth)"
                    )
                    assert loaded == [320], where
                tab.context.close()


def test_it_lines_the_bars_up_with_their_steps(pages, live_server, browser):
    tab, _problems = open_page(
        browser, live_server.url + pages["run"], pages["sessions"]["en"], 1366
    )
    rows = tab.locator("#steps tbody tr")
    assert rows.count() == 5
    boxes = [rows.nth(i).locator("svg.waterfall__bar").bounding_box() for i in range(5)]
    assert all(box and box["width"] > 200 and box["height"] == 14 for box in boxes)
    assert tab.get_by_role("row").filter(has_text="Failed here").count() == 1
    tab.context.close()


def test_it_saves_on_enter_in_a_field_of_the_editor(pages, live_server, browser):
    tab, _problems = open_page(
        browser, live_server.url + pages["edit"], pages["sessions"]["en"], 1366
    )
    tab.get_by_label("Name", exact=True).fill("Checkout renamed")
    tab.get_by_label("Name", exact=True).press("Enter")
    tab.wait_for_url(f"**/monitors/{pages['edited']}/")
    tab.context.close()
