"""A heartbeat's page in a real browser (Debian's Chromium): the copy button works under the
strict Content-Security-Policy, and the URL it copies is one a job can ping."""

from __future__ import annotations

from typing import Any

import pytest

from front.tests.conftest import signed_in
from front.tests.test_csp_browser import Problems
from monitoring import views
from monitoring.checks import heartbeat
from monitoring.models import CheckKind, Monitor
from sitecare.tests.browser import needs_chromium

pytestmark = needs_chromium


@pytest.fixture
def beat(world, live_server, settings) -> tuple[Monitor, str]:
    """A heartbeat of client A and the owner's session, made before the browser starts."""
    settings.SITECARE_BASE_URL = live_server.url
    views.TOKENS.clear()
    monitor = Monitor.objects.create(
        site=world.site_a,
        name="Nightly backup",
        kind=CheckKind.HEARTBEAT,
        url=heartbeat.new_token(),
        config={"period": 3600, "grace": 300},
    )
    return monitor, str(signed_in(world.owner).cookies["sessionid"].value)


def test_it_copies_the_ping_url_and_the_copied_url_takes_a_ping(beat, live_server, browser):
    monitor, session = beat
    problems = Problems()
    context: Any = browser.new_context(viewport={"width": 1366, "height": 900})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    context.add_cookies([{"name": "sessionid", "value": session, "url": live_server.url}])
    tab = context.new_page()
    tab.on("console", problems.console)
    tab.on("pageerror", problems.page_error)
    problems.path = "heartbeat page"
    tab.goto(f"{live_server.url}/monitors/{monitor.pk}/")
    assert tab.inner_text("#heartbeat-standing") == "Waiting for its first ping"
    tab.click("button[data-copy='#ping-url']")
    tab.wait_for_function("document.querySelector('.copy-status').textContent == 'Copied.'")
    copied = tab.evaluate("navigator.clipboard.readText()")
    assert copied == f"{live_server.url}/ping/{monitor.url}"
    answer = tab.request.post(copied + "/0", data="backup done", headers={"User-Agent": "cron/1"})
    assert (answer.status, answer.text()) == (200, "OK")
    tab.reload()
    assert tab.inner_text("#heartbeat-standing") == "On time"
    row = tab.inner_text("#pings tbody tr")
    assert "Exit code 0" in row and "cron/1" in row and "backup done" in row
    context.close()
    assert problems.found == [], "\n".join(problems.found)
