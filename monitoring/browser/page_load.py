"""Loading a page once for a speed measurement (Playwright's side of ``vitals``)."""

from __future__ import annotations

import time

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from monitoring.browser.session import BrowserSession
from monitoring.browser.vitals import (
    LAST_TASK_END,
    OBSERVERS,
    POLL_S,
    QUIET_CAP_S,
    QUIET_S,
    READ_ENTRIES,
    THROTTLES,
    LoadFigures,
    NetworkLog,
    Profile,
    figures_of,
)


class NavigationFailed(Exception):
    """The page did not load: ``error`` is Playwright's reason (``net::ERR_…`` or a timeout)."""

    def __init__(self, error: str, *, timed_out: bool = False) -> None:
        super().__init__(error)
        self.error = error
        self.timed_out = timed_out
        # Why the guard proxy could not reach the host (failure class, message), when it
        # tried: Chromium behind a proxy only sees a failed tunnel or an empty reply.
        self.upstream: tuple[str, str] | None = None


def measure_load(
    session: BrowserSession, url: str, *, profile: Profile, timeout_s: float
) -> LoadFigures:
    """Load ``url`` once in a fresh session and read its figures.

    1. Throttle the page's network and CPU for the profile, start the Network log and install
       the observers (before any of the page's scripts).
    2. Load the page (until its ``load`` event, within ``timeout_s``).
    3. Wait until it is quiet (see the module), then read the entries and compute the figures.
    """
    cdp = session.context.new_cdp_session(session.page)
    network = NetworkLog()
    network.attach(cdp)
    throttle = THROTTLES[profile]
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", throttle.network_conditions())
    if throttle.cpu_slowdown > 1:
        cdp.send("Emulation.setCPUThrottlingRate", {"rate": throttle.cpu_slowdown})
    session.page.add_init_script(OBSERVERS)
    try:
        response = session.page.goto(url, wait_until="load", timeout=timeout_s * 1000)
    except PlaywrightTimeout as exc:
        raise NavigationFailed(str(exc).splitlines()[0], timed_out=True) from exc
    except PlaywrightError as exc:
        raise NavigationFailed(str(exc).splitlines()[0]) from exc
    _wait_until_quiet(session, network)
    entries = session.page.evaluate(READ_ENTRIES)
    return figures_of(entries, network, status=response.status if response else None)


def _wait_until_quiet(session: BrowserSession, network: NetworkLog) -> None:
    """Wait until no request and no long task for ``QUIET_S`` (``QUIET_CAP_S`` at most)."""
    loaded = time.monotonic()
    while time.monotonic() - loaded < QUIET_CAP_S:
        session.page.wait_for_timeout(POLL_S * 1000)
        clock = session.page.evaluate(LAST_TASK_END)
        since_task_s = (clock["now"] - clock["end"]) / 1000
        since_network_s = time.monotonic() - network.last_activity
        if not network.in_flight and min(since_task_s, since_network_s) >= QUIET_S:
            return
