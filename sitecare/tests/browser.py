"""Debian's Chromium for the tests that look at pages in a real browser, through Playwright.

The root conftest's ``browser`` fixture launches it for one test; modules that use it are
marked :data:`needs_chromium`, so they skip where it is not installed (``make test`` installs
it). Build what a test needs in the database before the fixture starts: Playwright's sync API
runs an event loop in the test's thread, after which Django refuses database calls there.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser

CHROMIUM = Path("/usr/bin/chromium")
# No sandbox (containers), no GPU, and none of Chromium's own traffic (updates, sync, field
# trials): the pages under test are its only connections.
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Debian's chromium is not installed (make test installs it)"
)


@contextmanager
def launched_chromium() -> Iterator[Browser]:
    """Debian's Chromium, headless, launched through Playwright and closed afterwards."""
    # Imported here, not at the top: the root conftest loads this module for every test run,
    # and Playwright takes a quarter of a second to import for the few tests that use it.
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            yield browser
        finally:
            browser.close()
