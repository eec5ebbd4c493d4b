"""The network policy holds inside the browser (acceptance: the browser SSRF matrix).

A page served from 127.0.0.2 (the only address the agency's allowlist admits) reaches for
loopback listeners every way a page can: an image (http and https), a redirect, ``fetch``, a
WebSocket, an iframe, ``<link rel=prefetch>``, ``preconnect`` and ``dns-prefetch``, a
service worker that fetches, and WebRTC STUN servers; at 127.0.0.1, [::1], [::ffff:127.0.0.1]
and ``localhost``. Real Chromium, real listeners: TCP listeners count accepted connections, UDP
sockets count datagrams, and none may see anything; each attempt shows as a blocked request.
The page is served over the network (through the proxy, like any site) rather than fulfilled
by Playwright, so the allowed path is the real one too; a control run with loopback allowed
proves the listeners would have seen the traffic.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Iterator
from contextlib import ExitStack

import pytest
from playwright.sync_api import Error as PlaywrightError

from monitoring.browser.pool import pool
from monitoring.browser.session import SessionOptions, open_session
from monitoring.tests.browser_sites import PageServer, Route
from monitoring.tests.loopback import CountingListener, UdpCounter, ipv6_loopback_available
from sitecare.tests.browser import needs_chromium

pytestmark = [needs_chromium, pytest.mark.usefixtures("netlog")]

PAGE_HOST = "127.0.0.2"
PAGE_ONLY = (ipaddress.ip_network("127.0.0.2/32"),)
LOOPBACK = (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128"))
IPV6 = ipv6_loopback_available()

PAGE = """<!doctype html><title>matrix</title>
<link rel="prefetch" href="http://{v6}/prefetch">
<link rel="dns-prefetch" href="//localhost:{p4}">
<link rel="preconnect" href="https://localhost:{p4}">
<img src="http://127.0.0.1:{p4}/img"> <img src="https://{mapped}/img-tls">
<iframe src="http://localhost:{p4}/frame"></iframe>
<script>
const quiet = (promise) => promise.catch(() => null);
quiet(fetch("http://{v6}/fetch", {{mode: "no-cors"}}));
quiet(fetch("http://{mapped}/fetch-mapped", {{mode: "no-cors"}}));
try {{ new WebSocket("ws://{mapped}/ws"); }} catch (e) {{}}
try {{ new WebSocket("wss://localhost:{p4}/wss"); }} catch (e) {{}}
for (const url of ["stun:127.0.0.1:{u4}", "stun:{u6host}", "stun:[::ffff:127.0.0.1]:{u4}",
                   "stun:localhost:{u4}"]) {{
  const pc = new RTCPeerConnection({{iceServers: [{{urls: url}}]}});
  pc.createDataChannel("probe");
  quiet(pc.createOffer().then((offer) => pc.setLocalDescription(offer)));
}}
quiet(navigator.serviceWorker.register("/sw.js").then(() => navigator.serviceWorker.ready));
setTimeout(() => {{ window.done = true; }}, 2500);
</script>"""

SERVICE_WORKER = """
self.addEventListener("install", (event) => {{
  event.waitUntil(fetch("http://127.0.0.1:{p4}/sw-install", {{mode: "no-cors"}}).catch(() => 0));
  self.skipWaiting();
}});
self.addEventListener("activate", (event) => {{
  event.waitUntil(fetch("http://{v6}/sw-activate", {{mode: "no-cors"}}).catch(() => 0));
}});
"""


@pytest.fixture(scope="module", autouse=True)
def _browser_closed_after_the_module() -> Iterator[None]:
    yield
    pool().close()


class Targets:
    """Listeners on every loopback form: TCP (accept counters) and UDP (datagram counters)."""

    def __init__(self, stack: ExitStack) -> None:
        self.tcp4 = stack.enter_context(CountingListener("127.0.0.1"))
        self.udp4 = stack.enter_context(UdpCounter("127.0.0.1"))
        self.tcp6 = stack.enter_context(CountingListener("::1")) if IPV6 else None
        self.udp6 = stack.enter_context(UdpCounter("::1")) if IPV6 else None

    def fill(self, template: str) -> str:
        # Without IPv6 loopback, the [::1] forms point at ports nothing listens on.
        p6 = self.tcp6.port if self.tcp6 else self.tcp4.port
        u6 = self.udp6.port if self.udp6 else self.udp4.port
        return template.format(
            p4=self.tcp4.port,
            u4=self.udp4.port,
            v6=f"[::1]:{p6}",
            u6host=f"[::1]:{u6}",
            mapped=f"[::ffff:127.0.0.1]:{self.tcp4.port}",
        )

    def tcp_accepted(self) -> int:
        return self.tcp4.accepted + (self.tcp6.accepted if self.tcp6 else 0)

    def datagrams(self) -> int:
        return self.udp4.datagrams + (self.udp6.datagrams if self.udp6 else 0)


def serve_matrix(targets: Targets, stack: ExitStack) -> PageServer:
    redirect = f"http://127.0.0.1:{targets.tcp4.port}/landing"
    routes = {
        "/": Route(targets.fill(PAGE).encode()),
        "/sw.js": Route(targets.fill(SERVICE_WORKER).encode(), "text/javascript"),
        "/redirect": Route(b"", status=302, headers={"Location": redirect}),
    }
    return stack.enter_context(PageServer(PAGE_HOST, routes))


def run_matrix(allowlist: tuple) -> tuple[Targets, list[dict], bool]:
    """Open the matrix page and the redirect in one session; what reached and what was refused."""
    with ExitStack() as stack:
        targets = Targets(stack)
        site = serve_matrix(targets, stack)
        with open_session(SessionOptions(allowlist=allowlist, timeout_s=20)) as session:
            session.page.goto(site.url("/"))
            session.page.wait_for_function("window.done === true", timeout=10_000)
            try:
                session.page.goto(site.url("/redirect"))
                redirect_failed = False
            except PlaywrightError:
                redirect_failed = True
            time.sleep(0.5)  # late stragglers (the service worker's activate fetch)
            blocked = list(session.blocked_requests)
        return targets, blocked, redirect_failed


def test_it_lets_no_page_request_reach_loopback_and_shows_each_as_blocked():
    targets, blocked, redirect_failed = run_matrix(PAGE_ONLY)

    assert targets.tcp_accepted() == 0
    assert targets.datagrams() == 0
    assert redirect_failed
    assert {entry["reason"] for entry in blocked} == {"policy"}
    hosts = {entry["host"] for entry in blocked}
    assert {"127.0.0.1", "::ffff:127.0.0.1", "localhost"} <= hosts
    if IPV6:
        assert "::1" in hosts
    urls = " ".join(entry["url"] for entry in blocked)
    for marker in ("/img", "/img-tls", "/landing", "/fetch", "/fetch-mapped", "/ws", "/wss"):
        assert f"{marker}" in urls, marker
    for marker in ("/frame", "/prefetch", "/sw-install", "/sw-activate"):
        assert marker in urls, marker
    stun = [entry for entry in blocked if entry["url"].startswith("stun:")]
    assert {entry["host"] for entry in stun} >= {"127.0.0.1", "::1", "localhost"}
    assert len(stun) == 4


def test_it_reaches_the_listeners_when_the_allowlist_admits_loopback_but_never_by_udp():
    # The control: the same page, loopback allowed; the listeners do see the page's requests
    # (so the zero above is the guard's doing), while WebRTC still sends no datagram.
    targets, blocked, _redirect_failed = run_matrix(LOOPBACK)

    assert targets.tcp_accepted() >= 5
    assert targets.datagrams() == 0
    assert all(entry["url"].startswith("stun:") for entry in blocked)


def test_it_refuses_a_blocked_host_pattern_by_name_before_any_lookup():
    with ExitStack() as stack:
        targets = Targets(stack)
        page = f'<img src="http://localhost:{targets.tcp4.port}/pixel">'
        site = stack.enter_context(PageServer(PAGE_HOST, {"/": Route(page.encode())}))
        options = SessionOptions(allowlist=PAGE_ONLY + LOOPBACK, blocked_hosts=("localhost",))
        with open_session(options) as session:
            session.page.goto(site.url("/"), wait_until="load")
            blocked = list(session.blocked_requests)
    assert targets.tcp_accepted() == 0
    assert blocked == [
        {
            "url": f"http://localhost:{targets.tcp4.port}/pixel",
            "host": "localhost",
            "reason": "blocked_host",
        }
    ]
