"""The monitors list in Debian's Chromium, in Polish and in English: search by a word, select
the three found with "select all on this page", pause them at once, see them paused (and the
pauses recorded with who and how), then filter the list by a tag."""

from __future__ import annotations

from typing import Any

import pytest

from conftest import make_user
from front.tests.conftest import signed_in
from monitoring.models import CheckKind, Monitor, PauseEvent, PauseVia, Tag, TagColour
from sitecare.tests.browser import needs_chromium
from tenancy.models import Membership, Role

pytestmark = needs_chromium

WORDS = {
    "en": {"show": "Show", "pause": "Pause", "paused": "Paused", "done": "Paused 3 monitors."},
    "pl": {
        "show": "Pokaż",
        "pause": "Wstrzymaj",
        "paused": "Wstrzymany",
        "done": "Wstrzymano 3 monitory.",
    },
}


@pytest.fixture
def sessions(world) -> dict[str, str]:
    """Checkout monitors to find, one of them and the blog tagged "Sklepy", and an owner
    reading each language (built before the browser starts: Playwright's event loop in this
    thread stops Django from using the database here)."""
    tag = Tag.objects.create(organization=world.agency, name="Sklepy", colour=TagColour.GREEN)
    for name in ("Checkout EU", "Checkout US", "Checkout PL", "Blog", "API"):
        monitor = Monitor.objects.create(
            site=world.site_a, name=name, kind=CheckKind.HTTP, url=f"https://a.example/{name}"
        )
        if name in ("Checkout EU", "Blog"):
            monitor.tags.add(tag)
    polish = make_user("polish-owner", world.agency, Role.OWNER)
    Membership.objects.filter(user=world.owner).update(language="en")
    Membership.objects.filter(user=polish).update(language="pl")
    return {
        "en": signed_in(world.owner).cookies["sessionid"].value,
        "pl": signed_in(polish).cookies["sessionid"].value,
    }


def row_names(tab: Any) -> list[str]:
    return tab.locator(".table--monitors tbody td.cell--wide a.strong").all_inner_texts()


@pytest.mark.parametrize("language", ["pl", "en"])
def test_it_finds_selects_and_pauses_three_monitors_then_filters_by_tag(
    language, sessions, live_server, browser, monkeypatch
):
    # Reading the pauses back after the browser ran: Django refuses the database in a thread
    # with an event loop (Playwright's) unless told that this test knows what it does.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    words = WORDS[language]
    errors: list[str] = []
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    context.add_cookies(
        [{"name": "sessionid", "value": sessions[language], "url": live_server.url}]
    )
    tab = context.new_page()
    tab.on("pageerror", lambda error: errors.append(str(error)))
    tab.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    tab.goto(live_server.url + "/monitors/")
    assert tab.locator("html").get_attribute("lang") == language

    tab.fill("input[name=q]", "checkout")
    with tab.expect_navigation():
        tab.get_by_role("button", name=words["show"], exact=True).click()
    assert sorted(row_names(tab)) == ["Checkout EU", "Checkout PL", "Checkout US"]
    assert "q=checkout" in tab.url

    tab.check("#choose-all")  # "select all on this page", through the page's own script
    assert tab.locator("input[name=monitor]:checked").count() == 3
    with tab.expect_navigation():
        tab.get_by_role("button", name=words["pause"], exact=True).click()
    assert tab.locator(".message--success").inner_text() == words["done"]
    assert "q=checkout" in tab.url  # back to the same view of the list
    badges = tab.locator(".table--monitors tbody .badge").all_inner_texts()
    assert badges == [words["paused"]] * 3

    tab.fill("input[name=q]", "")
    tab.select_option("select[name=tag]", label="Sklepy")
    with tab.expect_navigation():
        tab.get_by_role("button", name=words["show"], exact=True).click()
    assert sorted(row_names(tab)) == ["Blog", "Checkout EU"]
    assert tab.locator(".tag.tag--green", has_text="Sklepy").count() == 2
    context.close()
    assert errors == []

    owner = "polish-owner" if language == "pl" else "owner"
    events = PauseEvent.objects.select_related("monitor", "user").order_by("monitor__name")
    assert [(e.monitor.name, e.via, e.user and e.user.username) for e in events] == [
        ("Checkout EU", PauseVia.WEB, owner),
        ("Checkout PL", PauseVia.WEB, owner),
        ("Checkout US", PauseVia.WEB, owner),
    ]
