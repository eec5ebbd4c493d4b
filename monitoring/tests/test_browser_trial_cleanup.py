"""A browser trial ("test before saving", run in the web server's process) leaves no browser
behind: each trial runs in a thread of its own, so a browser kept for "the next check of this
thread" would never be used again and would stay running until the server stops."""

from __future__ import annotations

import ipaddress

from monitoring import trial
from monitoring.browser.pool import chromium_roots
from monitoring.spec import parse_monitor
from monitoring.tests.browser_sites import PageServer, Route
from sitecare.tests.browser import needs_chromium

pytestmark = [needs_chromium]

LOOPBACK = (ipaddress.ip_network("127.0.0.0/8"),)


def test_it_leaves_no_browser_running_after_a_trial() -> None:
    page = Route(b"<!doctype html><title>ok</title><p>Hello</p>")
    with PageServer(routes={"/": page}) as site:
        definition = parse_monitor(
            {
                "name": "Trial",
                "kind": "transaction",
                "url": site.url("/"),
                "steps": [
                    {"action": "goto", "url": "/"},
                    {"action": "expect_text", "contains": "Hello"},
                ],
            },
            LOOPBACK,
        )
        before = chromium_roots()
        for _ in range(2):
            result = trial.run_trial(definition, LOOPBACK, limit=60)
            assert result.ok, result.message
    assert chromium_roots() - before == set()
