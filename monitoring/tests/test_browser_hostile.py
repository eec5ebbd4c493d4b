"""Hostile pages cannot hold or swell the browser runner (acceptance: hostile pages).

Each hostile page (endless memory growth, an endless JavaScript loop, 100 popups, a 50 MB
image) is checked the way a kind checks a page (open, wait, screenshot) with a short timeout:
the check ends within its timeout + 5 s with BrowserStopped or a clean result, the browser
is recycled, the next check on the same pool passes, and the browser tree's memory (PSS, as
the watchdog counts it) sampled throughout stays under the cap. Real Chromium, real servers.
"""

from __future__ import annotations

import ipaddress
import os
import struct
import threading
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.sync_api import Error as PlaywrightError

from monitoring.browser.pool import chromium_roots, machine_lock, pool, tree_memory_mb
from monitoring.browser.session import BrowserStopped, SessionOptions, open_session
from monitoring.tests.browser_sites import PageServer, Route
from sitecare.tests.browser import needs_chromium

pytestmark = needs_chromium

HOST = "127.0.0.2"
ALLOWED = (ipaddress.ip_network("127.0.0.2/32"),)
TIMEOUT_S = 6.0
CAP_MB = 1024  # the documented default

MEMORY_GROWTH = b"""<title>grow</title><script>
const keep = [];
setInterval(() => {
  for (let i = 0; i < 20; i++) keep.push(new Array(200000).fill(Math.random()));
}, 5);
</script>"""
ENDLESS_LOOP = b"<title>spin</title><script>while (true) {}</script>"
POPUPS = b"""<title>popups</title><script>
for (let i = 0; i < 100; i++) window.open("/plain?" + i, "w" + i);
</script>"""
IMAGE_PAGE = b'<title>image</title><img src="/big.png">'
PLAIN = b"<title>plain</title><p>fine</p>"


def big_png(target_bytes: int = 50 * 1024 * 1024) -> bytes:
    """A valid PNG of about ``target_bytes`` (noise, stored uncompressed): 4096 px wide."""
    width = 4096
    height = target_bytes // (width * 3) + 1
    row = os.urandom(width * 3)
    raw = b"".join(b"\x00" + row for _ in range(height))  # one noisy row, repeated
    data = zlib.compress(raw, 0)  # stored: the file is as large as the pixels

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body)
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")
    )


@pytest.fixture(scope="module")
def site() -> Iterator[PageServer]:
    image = big_png()
    assert len(image) >= 50 * 1024 * 1024
    routes = {
        "/grow": Route(MEMORY_GROWTH),
        "/spin": Route(ENDLESS_LOOP),
        "/popups": Route(POPUPS),
        "/image": Route(IMAGE_PAGE),
        "/big.png": Route(image, "image/png"),
        "/plain": Route(PLAIN),
    }
    with PageServer(HOST, routes) as server:
        yield server
    pool().close()


@pytest.fixture(autouse=True)
def _small_cap(settings) -> None:
    settings.SITECARE_BROWSER_MEMORY_MB = CAP_MB


class MemorySampler:
    """The peak memory of every browser tree of this process, sampled every 50 ms."""

    def __init__(self) -> None:
        self.peak_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=2)

    def _sample(self) -> None:
        while not self._stop.is_set():
            for root in chromium_roots():
                self.peak_mb = max(self.peak_mb, tree_memory_mb(root))
            time.sleep(0.05)


@dataclass
class Check:
    ending: str  # "passed", "stopped" (BrowserStopped) or "error" (a Playwright error)
    seconds: float
    detail: Any = None


def check(url: str, *, hang: bool = False, wait: bool = False) -> Check:
    """Check a page as a kind would: open it, (wait for it or ask it something), screenshot."""
    started = time.monotonic()
    try:
        with open_session(SessionOptions(allowlist=ALLOWED, timeout_s=TIMEOUT_S)) as session:
            session.page.goto(url, wait_until="commit" if hang else "load")
            if hang:
                session.page.evaluate("document.title")  # no timeout of its own: only the watchdog
            if wait:  # a step waiting for what never comes, up to the check's timeout
                session.page.wait_for_selector("#never")
            session.page.screenshot()
            detail = session.closed_popups
        return Check("passed", time.monotonic() - started, detail)
    except BrowserStopped as exc:
        return Check("stopped", time.monotonic() - started, exc.reason)
    except PlaywrightError as exc:
        return Check("error", time.monotonic() - started, str(exc)[:200])


def hostile_then_plain(site: PageServer, path: str, **kwargs: Any) -> tuple[Check, Check, float]:
    with MemorySampler() as sampler:
        hostile = check(site.url(path), **kwargs)
        plain = check(site.url("/plain"))
    assert hostile.seconds < TIMEOUT_S + 5, hostile
    assert plain.ending == "passed", plain
    return hostile, plain, sampler.peak_mb


def recycled(before: int) -> bool:
    """The browser the hostile check used is gone: the plain check ran on a new launch."""
    return pool().slot().launches > before


def test_it_stops_endless_memory_growth_under_the_cap(site):
    check(site.url("/plain"))
    before = pool().slot().launches
    hostile, _plain, peak = hostile_then_plain(site, "/grow", wait=True)
    assert hostile.ending in ("stopped", "error"), hostile
    assert recycled(before)
    assert peak < CAP_MB, peak


def test_it_kills_a_browser_hung_in_an_endless_loop(site):
    check(site.url("/plain"))
    before = pool().slot().launches
    hostile, _plain, peak = hostile_then_plain(site, "/spin", hang=True)
    assert hostile.ending == "stopped", hostile
    assert hostile.detail == "timeout"
    assert hostile.seconds >= TIMEOUT_S
    assert recycled(before)
    assert peak < CAP_MB, peak


def test_it_closes_a_hundred_popups_and_recycles_the_browser(site):
    check(site.url("/plain"))
    before = pool().slot().launches
    hostile, _plain, peak = hostile_then_plain(site, "/popups")
    if hostile.ending == "passed":
        assert hostile.detail >= 90  # popups closed as they opened
    assert recycled(before)
    assert peak < CAP_MB, peak


def test_it_stops_a_check_whose_page_downloads_a_50_mb_image(site):
    check(site.url("/plain"))
    before = pool().slot().launches
    hostile, _plain, peak = hostile_then_plain(site, "/image")
    # Past SITECARE_BROWSER_MAX_DOWNLOAD_MB (25) the guard proxy stops relaying and the
    # check is stopped, long before its timeout: a heavy page cannot tie a runner up.
    assert (hostile.ending, hostile.detail) == ("stopped", "heavy"), hostile
    assert hostile.seconds < TIMEOUT_S, hostile
    assert recycled(before)
    assert peak < CAP_MB, peak


def test_it_recycles_the_browser_after_n_checks(site, settings):
    settings.SITECARE_BROWSER_RECYCLE_CHECKS = 2
    check(site.url("/plain"))
    first = pool().slot().launches
    assert check(site.url("/plain")).ending == "passed"  # second check: retired after it
    assert check(site.url("/plain")).ending == "passed"
    assert pool().slot().launches == first + 1


def test_it_never_runs_a_speed_measurement_beside_another_check(tmp_path, settings):
    settings.VAR_DIR = tmp_path
    events: list[str] = []
    shared_in = threading.Event()

    def ordinary() -> None:
        with machine_lock(exclusive=False):
            events.append("check in")
            shared_in.set()
            time.sleep(0.3)
            events.append("check out")

    def measurement() -> None:
        shared_in.wait()
        with machine_lock(exclusive=True):
            events.append("speed in")
            time.sleep(0.1)
            events.append("speed out")

    threads = [threading.Thread(target=ordinary), threading.Thread(target=measurement)]
    for thread in threads:
        thread.start()
    time.sleep(0.1)
    late = threading.Thread(target=ordinary)  # arrives while the measurement waits: queues
    late.start()
    for thread in [*threads, late]:
        thread.join(timeout=5)
    assert events[:4] == ["check in", "check out", "speed in", "speed out"]
    assert events[4:] == ["check in", "check out"]
