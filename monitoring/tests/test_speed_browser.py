"""A real page speed measurement in Debian's Chromium, of a small page on loopback: the figures
are there and sane, bytes are counted, the heavy image is the heaviest resource, and an LCP
budget of 1 ms fails the check. Few and small: each load takes seconds under throttling."""

from __future__ import annotations

import ipaddress
import os
import struct
import threading
import zlib
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from monitoring.browser.speed_check import run_in_browser
from monitoring.browser.vitals import THROTTLES
from monitoring.engine.target import CheckTarget
from monitoring.failures import FailureClass
from monitoring.tests.loopback import free_port
from sitecare.tests.browser import needs_chromium

pytestmark = [needs_chromium, pytest.mark.django_db]

LOOPBACK = (ipaddress.ip_network("127.0.0.0/8"),)


def png(width: int, height: int) -> bytes:
    """An uncompressed PNG of random pixels: as heavy on the wire as it is in memory."""
    rows = b"".join(b"\x00" + os.urandom(width * 3) for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 0))
        + chunk(b"IEND", b"")
    )


HERO = png(360, 240)  # about 260 kB
ICON = png(8, 8)
# Text first (FCP), the hero after (LCP), and a 150 ms task after load (blocking time).
PAGE = b"""<!doctype html><html lang="en"><head><title>Shop</title></head><body>
<h1>Summer sale</h1><p>Everything must go.</p>
<img src="/hero.png" width="360" height="240" alt="hero"><img src="/icon.png" alt="icon">
<script>addEventListener('load', () => setTimeout(() => {
  const until = performance.now() + 150; while (performance.now() < until) {}
}, 0));</script></body></html>"""
FILES = {
    "/": (PAGE, "text/html"),
    "/hero.png": (HERO, "image/png"),
    "/icon.png": (ICON, "image/png"),
}


class ShopHandler(BaseHTTPRequestHandler):
    server: ShopServer

    def do_GET(self) -> None:
        self.server.hits[self.path] += 1
        body, kind = FILES.get(self.path, (b"not here", "text/plain"))
        self.send_response(200 if self.path in FILES else 404)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "max-age=3600")  # each load must still be cold
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class ShopServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), ShopHandler)
        self.hits: Counter[str] = Counter()


@pytest.fixture
def shop() -> Iterator[ShopServer]:
    server = ShopServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def target(url: str, config: dict[str, Any]) -> CheckTarget:
    return CheckTarget(1, "speed", url, config, 600, 30, allowlist=LOOPBACK)


def test_it_measures_a_real_page_and_fails_its_lcp_budget(shop):
    url = f"http://127.0.0.1:{shop.server_address[1]}/"
    config = {"profile": "mobile", "runs": 2, "budgets": {"lcp_ms": 1, "cls": 0.5}}
    outcome = run_in_browser(target(url, config))
    details = outcome.details
    assert details is not None, outcome.message
    median = details["median"]
    # Each run loaded the page cold, in its own session.
    assert shop.hits["/"] == 2 and shop.hits["/hero.png"] == 2
    # Sane figures: text paints first, the hero last, after at least one throttled round trip.
    latency = THROTTLES["mobile"].latency_ms
    assert 0 <= median["ttfb_ms"] < median["fcp_ms"] <= median["lcp_ms"]
    assert median["lcp_ms"] >= latency
    assert median["cls"] == 0.0  # sized images: nothing shifts
    assert median["tbt_ms"] >= 50  # the 150 ms task after load blocks for 100 ms
    assert median["bytes"] > len(HERO) + len(PAGE)
    assert median["requests"] >= 3
    heaviest = details["heaviest"][0]
    assert heaviest["url"].endswith("/hero.png") and heaviest["type"] == "Image"
    assert heaviest["bytes"] >= len(HERO)
    assert details["environment"]["browser"].split(".")[0].isdigit()
    assert details["environment"]["key"].startswith("mobile/chromium-")
    # Judged: over the LCP budget only.
    assert not outcome.ok
    assert outcome.failure_class == FailureClass.BUDGET_EXCEEDED
    assert details["broken"] == ["lcp_ms"]
    assert outcome.message.startswith("Page speed over budget: LCP ")
    assert outcome.response_ms == median["lcp_ms"]


def test_it_fails_with_the_reason_when_the_page_does_not_load():
    url = f"http://127.0.0.1:{free_port()}/"
    outcome = run_in_browser(target(url, {"profile": "desktop", "runs": 3}))
    assert not outcome.ok
    assert outcome.failure_class == FailureClass.CONNECTION_REFUSED
    assert "refused" in outcome.message  # the guard proxy's own words, not a tunnel error
    assert outcome.details is None
