"""UDP a page could send past the guard proxy: WebTransport (HTTP/3 over QUIC) to a loopback
listener in an agency without an allowlist reaches nothing. (Without the guard's proxy and
flags, the same page from 127.0.0.2, a secure context, sends the listener QUIC datagrams: the
review of issue 12 checked that by hand with a plain Chromium.)"""

from __future__ import annotations

import ipaddress
import time

import pytest

from monitoring.browser.pool import pool
from monitoring.browser.session import SessionOptions, open_session
from monitoring.tests.browser_sites import PageServer, Route
from monitoring.tests.loopback import UdpCounter
from sitecare.tests.browser import needs_chromium

pytestmark = [needs_chromium]

PAGE_ONLY = (ipaddress.ip_network("127.0.0.2/32"),)
PAGE = """<!doctype html><title>udp</title><script>
const quiet = (promise) => promise.catch(() => null);
for (const url of ["https://127.0.0.1:{port}/wt", "https://localhost:{port}/wt"]) {{
  try {{ const t = new WebTransport(url); quiet(t.ready); quiet(t.closed); }} catch (e) {{}}
}}
setTimeout(() => {{ window.done = true; }}, 1500);
</script>"""


@pytest.fixture(autouse=True)
def _fresh_pool():
    yield
    pool().close()


def test_it_sends_no_webtransport_datagram_to_loopback() -> None:
    with UdpCounter() as udp:
        routes = {"/": Route(PAGE.format(port=udp.port).encode())}
        with PageServer("127.0.0.2", routes) as site:
            with open_session(SessionOptions(allowlist=PAGE_ONLY, timeout_s=20)) as session:
                session.page.goto(site.url("/"))
                session.page.wait_for_function("window.done === true", timeout=10_000)
            time.sleep(0.3)
    assert udp.datagrams == 0
