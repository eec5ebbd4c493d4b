"""Dates and times survive a Polish page in Debian's Chromium: editing a maintenance window
and creating an on-call schedule keep the values the form shows (a localized ``07.12.2026``
used to empty the browser's date input, and the save failed with "this field is required")."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, time
from typing import Any

import pytest
import time_machine

from front.tests.conftest import signed_in
from incidents.models import MaintenanceWindow
from sitecare.tests.browser import needs_chromium
from tenancy.models import Membership

pytestmark = needs_chromium
MOMENT = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


@pytest.fixture
def polish_session(world) -> Iterator[str]:
    """The owner's session, reading Polish, with the clock at 7 December 2026."""
    with time_machine.travel(MOMENT):  # ticking: the live server and the browser keep time
        Membership.objects.filter(user=world.owner).update(language="pl")
        yield signed_in(world.owner).cookies["sessionid"].value


@pytest.fixture
def window(world) -> MaintenanceWindow:
    return MaintenanceWindow.objects.create(
        client=world.client_a,
        site=world.site_a,
        title="Aktualizacja",
        start_date=date(2026, 12, 20),
        start_time=time(2, 30),
        duration_minutes=90,
    )


def open_tab(browser: Any, base: str, path: str, session: str) -> Any:
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="pl-PL")
    context.add_cookies([{"name": "sessionid", "value": session, "url": base}])
    tab = context.new_page()
    url = base + path
    response = tab.goto(url)
    assert response is not None and response.status == 200, url
    return tab


def test_it_edits_a_maintenance_window_and_creates_a_schedule_in_polish(
    world, window, polish_session, live_server, browser
) -> None:
    tab = open_tab(browser, live_server.url, f"/maintenance/{window.pk}/", polish_session)
    assert tab.locator("html").get_attribute("lang") == "pl"
    assert tab.input_value("#id_start_date") == "2026-12-20"
    assert tab.input_value("#id_start_time") == "02:30"
    tab.fill("#id_title", "Aktualizacja bazy")
    with tab.expect_navigation():
        tab.click("button[name=action][value=save]")
    assert tab.locator(".field__error").count() == 0, tab.content()
    assert "Zapisano okno serwisowe „Aktualizacja bazy”." in tab.content()
    # The page after the save reads the window back from the database.
    assert tab.input_value("#id_title") == "Aktualizacja bazy"
    assert tab.input_value("#id_start_date") == "2026-12-20"
    assert tab.input_value("#id_start_time") == "02:30"

    response = tab.goto(f"{live_server.url}/oncall/new/")
    assert response is not None and response.status == 200
    assert tab.input_value("#id_starts_on") == "2026-12-07"
    assert tab.input_value("#id_handoff_time") == "09:00"
    tab.fill("#id_name", "Dyżur weekendowy")
    with tab.expect_navigation():
        tab.click("form.form button[type=submit]")
    assert tab.locator(".field__error").count() == 0, tab.content()
    assert "Dyżur weekendowy" in tab.locator("h1").inner_text()
    assert re.search(r"/oncall/\d+/$", tab.url), tab.url
    tab.context.close()
