"""The web UI's one script (static/js/sitecare.js) in Debian's Chromium, under the strict
policy: the copy button of a new token puts the token on the clipboard, and the dashboard's
automatic refresh reloads the page every minute until the reader stops it (WCAG 2.2.2),
which it remembers. Time runs on Playwright's fake clock: no waiting."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from front.tests.conftest import signed_in
from sitecare.tests.browser import needs_chromium

pytestmark = needs_chromium


@pytest.fixture
def session(world) -> str:
    """Made before the browser starts (Playwright's event loop stops Django's database here)."""
    return str(signed_in(world.owner).cookies["sessionid"].value)


def new_tab(browser: Any, live_server: Any, session: str) -> Any:
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    context.add_cookies([{"name": "sessionid", "value": session, "url": live_server.url}])
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    return context.new_page()


def test_it_copies_a_new_token_with_its_button(session, live_server, browser):
    tab = new_tab(browser, live_server, session)
    tab.goto(live_server.url + reverse("front:profile"))
    form = tab.locator(f"form[action='{reverse('front:token_create')}']")
    form.locator("input[name=name]").fill("deploy script")
    with tab.expect_navigation():
        form.locator("button[type=submit]").click()
    token = tab.input_value("#raw-token")
    tab.click("button[data-copy='#raw-token']")
    tab.wait_for_selector(".copy-status:text('Copied.')")
    copied = tab.evaluate("navigator.clipboard.readText()")
    tab.context.close()
    assert token.startswith("sc_") and copied == token


def test_it_refreshes_the_dashboard_every_minute_until_the_reader_stops_it(
    session, live_server, browser
):
    tab = new_tab(browser, live_server, session)
    tab.clock.install()
    loads: list[str] = []
    tab.on("load", lambda page: loads.append(page.url))
    tab.goto(live_server.url + reverse("front:dashboard"))
    button = tab.locator("[data-autorefresh-toggle]")
    assert button.inner_text() == "Stop refreshing"
    with tab.expect_event("load"):
        tab.clock.run_for(61_000)
    assert len(loads) == 2  # reloaded once, after a minute
    tab.locator("[data-autorefresh-toggle]").click()
    assert tab.locator("[data-autorefresh-off]").is_visible()
    tab.clock.run_for(5 * 61_000)
    assert len(loads) == 2  # stopped: no more reloads
    # The choice outlives the page: opened again, the dashboard stays still.
    tab.goto(live_server.url + reverse("front:dashboard"))
    assert tab.locator("[data-autorefresh-toggle]").inner_text() == "Refresh every minute"
    tab.clock.run_for(5 * 61_000)
    assert len(loads) == 3
    tab.context.close()
