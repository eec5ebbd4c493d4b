"""The acceptance test of status pages, in a real browser (Debian's Chromium via Playwright):
a page whose tenant-typed texts carry script payloads runs nothing, shows them as text, and
no private monitor's name, id or address appears in its HTML, JSON or badges."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from incidents.models import MaintenanceWindow, UpdateStatus
from incidents.statuspage_mail import post_public_update
from incidents.tests.statuspages import PAYLOADS, SCRIPT, SECRETS, SVG, reset_caches, status_world
from sitecare.tests.browser import needs_chromium

pytestmark = needs_chromium


@pytest.fixture
def payload_world(world):
    """The XSS page, with a payload in a public update and in a maintenance window too.

    Built before the browser starts: Playwright's sync API runs an event loop in this
    thread, after which Django refuses database calls here (the live server has its own).
    """
    reset_caches()
    now = timezone.now()
    sw = status_world(world, now)
    incident = sw.shown.incidents.get()
    post_public_update(
        incident, status=UpdateStatus.IDENTIFIED, body=f"Cause found {SVG}", author=None, now=now
    )
    tomorrow = timezone.localtime(now + timedelta(days=1)).date()
    MaintenanceWindow.objects.create(
        client=world.client_a,
        site=world.site_a,
        title=f"Upgrade {SCRIPT}",
        description=f"Details {PAYLOADS[1]}",
        start_date=date(tomorrow.year, tomorrow.month, tomorrow.day),
        start_time=time(2),
        duration_minutes=60,
    )
    return sw


def test_it_refuses_a_javascript_logo_address(payload_world):
    sw = payload_world
    sw.page.logo_url = "javascript:window.__xss=1"
    with pytest.raises(ValidationError) as refused:
        sw.page.full_clean()
    assert set(refused.value.message_dict) == {"logo_url"}


def test_it_runs_no_tenant_script_and_leaks_no_private_monitor(payload_world, live_server, browser):
    sw = payload_world
    base = f"{live_server.url}/status/{sw.page.slug}"
    dialogs: list[str] = []
    context = browser.new_context()
    tab = context.new_page()

    def on_dialog(dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    tab.on("dialog", on_dialog)

    response = tab.goto(base + "/")
    assert response is not None and response.status == 200
    csp = response.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src" not in csp

    # Nothing ran: no flag, no dialog, no script element, no event handler attribute.
    assert tab.evaluate("typeof window.__xss") == "undefined"
    assert dialogs == []
    assert tab.evaluate("document.querySelectorAll('script, svg, [onerror], [onload]').length") == 0
    # The payloads are there, as text.
    body_text = tab.inner_text("body")
    for payload in PAYLOADS:
        assert payload in body_text, payload
    # The page's own stylesheet applies under the policy (the accent colour is its border).
    border = tab.evaluate("getComputedStyle(document.querySelector('.masthead')).borderBottomColor")
    assert border == "rgb(37, 99, 235)"

    html = tab.content()
    json_body = tab.request.get(base + ".json").text()
    badges = [
        tab.request.get(f"{base}/badge/{component.pk}.svg").text() for component in sw.components
    ]
    for secret in SECRETS:
        assert secret not in html, secret
        assert secret not in json_body, secret
        for badge in badges:
            assert secret not in badge, secret

    # A badge opened as a document runs nothing either; its text is escaped.
    tab.goto(f"{base}/badge/{sw.components[0].pk}.svg")
    assert tab.evaluate("typeof window.__xss") == "undefined"
    assert "&lt;script&gt;" in badges[0]
    assert dialogs == []
    context.close()
