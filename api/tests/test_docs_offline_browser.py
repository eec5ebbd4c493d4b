"""The interactive API docs with no way out to the internet (review: /api/v1/docs was blank
without one): in Debian's Chromium, with every request that is not for this machine aborted,
Swagger UI loads from sitecare's own static files, under the strict policy, and lists the
operations; its description links to the page where tokens are made."""

from __future__ import annotations

from ipaddress import ip_address
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.urls import reverse

from front.security_headers import APP_CSP
from front.tests.conftest import signed_in
from sitecare.tests.browser import needs_chromium

pytestmark = needs_chromium


def on_this_machine(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


@pytest.fixture
def session(world) -> str:
    """Made before the browser starts (Playwright's event loop stops Django's database here)."""
    return str(signed_in(world.owner).cookies["sessionid"].value)


def test_it_lists_the_operations_with_every_outside_request_blocked(session, live_server, browser):
    blocked: list[str] = []
    problems: list[str] = []

    def only_loopback(route: Any, request: Any) -> None:
        if request.url.startswith(("data:", "blob:")) or on_this_machine(request.url):
            route.continue_()
        else:
            blocked.append(request.url)
            route.abort("internetdisconnected")

    context = browser.new_context(viewport={"width": 1366, "height": 900})
    context.add_cookies([{"name": "sessionid", "value": session, "url": live_server.url}])
    context.route("**/*", only_loopback)
    tab = context.new_page()
    tab.on("pageerror", lambda error: problems.append(str(error)))
    tab.on(
        "console",
        lambda message: (
            problems.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    response = tab.goto(live_server.url + "/api/v1/docs")
    assert response is not None and response.status == 200
    assert response.headers["content-security-policy"] == APP_CSP
    tab.wait_for_selector(".swagger-ui .opblock-tag", timeout=20_000)
    operations = tab.locator(".swagger-ui .opblock").count()
    tags = tab.locator(".swagger-ui .opblock-tag").count()
    link = tab.locator(".swagger-ui .info .description a").first.get_attribute("href")
    context.close()
    assert tags >= 10 and operations >= 10, (tags, operations)
    assert link == reverse("front:profile") + "#tokens"
    assert blocked == [], blocked  # nothing was even asked of another host
    assert problems == [], problems


def test_it_points_the_openapi_description_at_the_profile_tokens_section(world):
    document = signed_in(world.owner).get("/api/v1/openapi.json").json()
    description = document["info"]["description"]
    assert "(/profile/#tokens)" in description
    assert "{tokens_page}" not in description
