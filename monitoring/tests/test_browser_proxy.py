"""The guard proxy alone: CONNECT and absolute-URI requests under a session's policy.

Raw sockets speak to a listener as Chromium would; the upstreams are counting listeners on
loopback, so a refusal is proven by an upstream that saw nothing.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator

import pytest

from monitoring.browser.proxy import (
    REASON_BLOCKED_HOST,
    REASON_POLICY,
    DownloadBudget,
    Listener,
    Policy,
    Refusal,
    UpstreamError,
    guard_proxy,
    host_blocked,
)
from monitoring.tests.loopback import CountingListener, free_port

pytestmark = pytest.mark.usefixtures("netlog")

LOOPBACK_V4 = (ipaddress.ip_network("127.0.0.0/8"),)


class Recorded:
    def __init__(self) -> None:
        self.refusals: list[Refusal] = []
        self.errors: list[UpstreamError] = []


@pytest.fixture
def recorded() -> Recorded:
    return Recorded()


def listener_for(recorded: Recorded, **policy) -> Listener:
    return guard_proxy().open_listener(
        Policy(on_refused=recorded.refusals.append, on_error=recorded.errors.append, **policy)
    )


@pytest.fixture
def upstream() -> Iterator[CountingListener]:
    with CountingListener("127.0.0.1") as listener:
        yield listener


def exchange(listener: Listener, request: bytes) -> bytes:
    """Send one request to the proxy and read until it closes the connection."""
    with socket.create_connection(("127.0.0.1", listener.port), timeout=5) as sock:
        sock.sendall(request)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    return received


def test_it_refuses_a_connect_to_a_denied_address_and_reports_it(recorded, upstream):
    listener = listener_for(recorded)
    try:
        reply = exchange(listener, f"CONNECT 127.0.0.1:{upstream.port} HTTP/1.1\r\n\r\n".encode())
    finally:
        listener.close()
    assert reply.startswith(b"HTTP/1.1 403")
    assert upstream.accepted == 0
    assert recorded.refusals == [
        Refusal(f"https://127.0.0.1:{upstream.port}/", "127.0.0.1", upstream.port, REASON_POLICY)
    ]


@pytest.mark.parametrize("authority", ["[::ffff:127.0.0.1]", "localhost"])
def test_it_refuses_mapped_and_named_loopback_too(recorded, upstream, authority):
    listener = listener_for(recorded)
    try:
        reply = exchange(listener, f"CONNECT {authority}:{upstream.port} HTTP/1.1\r\n\r\n".encode())
    finally:
        listener.close()
    assert reply.startswith(b"HTTP/1.1 403")
    assert upstream.accepted == 0
    assert [r.reason for r in recorded.refusals] == [REASON_POLICY]


def test_it_tunnels_a_connect_the_allowlist_admits(recorded, upstream):
    listener = listener_for(recorded, allowlist=LOOPBACK_V4)
    try:
        reply = exchange(
            listener,
            f"CONNECT 127.0.0.1:{upstream.port} HTTP/1.1\r\n\r\n"
            "GET / HTTP/1.1\r\nHost: x\r\n\r\n".encode(),
        )
    finally:
        listener.close()
    assert reply.startswith(b"HTTP/1.1 200 Connection established\r\n\r\nHTTP/1.1 200 OK")
    assert reply.endswith(b"ok")
    assert upstream.accepted == 1
    assert recorded.refusals == []


def test_it_refuses_a_blocked_host_pattern_even_when_its_address_is_allowed(recorded, upstream):
    listener = listener_for(recorded, allowlist=LOOPBACK_V4, blocked_hosts=("*.localhost",))
    try:
        reply = exchange(
            listener, f"CONNECT stats.localhost:{upstream.port} HTTP/1.1\r\n\r\n".encode()
        )
        url = f"http://localhost:{upstream.port}/pixel"
        plain = exchange(listener, f"GET {url} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode())
    finally:
        listener.close()
    assert reply.startswith(b"HTTP/1.1 403")
    assert plain == b"", "a refused plain request is closed unanswered"
    assert upstream.accepted == 0
    assert [(r.host, r.reason) for r in recorded.refusals] == [
        ("stats.localhost", REASON_BLOCKED_HOST),
        ("localhost", REASON_BLOCKED_HOST),
    ]
    assert recorded.refusals[1].url == f"http://localhost:{upstream.port}/pixel"


def test_it_forwards_one_plain_request_in_origin_form_and_closes(recorded, upstream):
    listener = listener_for(recorded, allowlist=LOOPBACK_V4)
    request = (
        f"GET http://127.0.0.1:{upstream.port}/page?q=1 HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{upstream.port}\r\nProxy-Connection: keep-alive\r\n\r\n"
        # A second request on the same connection, to a host the policy would refuse: it must
        # never be sent anywhere (one request per client connection).
        "GET http://10.0.0.1/ HTTP/1.1\r\nHost: 10.0.0.1\r\n\r\n"
    )
    try:
        reply = exchange(listener, request.encode())
    finally:
        listener.close()
    assert reply.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"Connection: close" in reply
    assert upstream.accepted == 1
    assert recorded.refusals == []


def test_it_reports_an_upstream_that_refuses_as_an_error_not_a_block(recorded):
    listener = listener_for(recorded, allowlist=LOOPBACK_V4)
    port = free_port()
    try:
        reply = exchange(listener, f"CONNECT 127.0.0.1:{port} HTTP/1.1\r\n\r\n".encode())
    finally:
        listener.close()
    assert reply.startswith(b"HTTP/1.1 403")
    assert recorded.refusals == []
    assert [e.port for e in recorded.errors] == [port]
    assert "refused" in recorded.errors[0].message


def test_it_refuses_everything_on_the_browser_wide_listener(recorded, upstream):
    listener = listener_for(recorded, allowlist=LOOPBACK_V4, deny_all=True)
    try:
        reply = exchange(listener, f"CONNECT 127.0.0.1:{upstream.port} HTTP/1.1\r\n\r\n".encode())
    finally:
        listener.close()
    assert reply.startswith(b"HTTP/1.1 403")
    assert upstream.accepted == 0


@pytest.mark.parametrize(
    ("host", "blocked"),
    [
        ("www.google-analytics.com", True),
        ("google-analytics.com", True),
        ("WWW.Google-Analytics.com.", True),
        ("evilgoogle-analytics.com", False),
        ("ads.example.net", True),
        ("cdn.ads.example.net", False),
        ("example.net", False),
    ],
)
def test_it_matches_blocked_host_patterns(host, blocked):
    assert host_blocked(host, ["*.google-analytics.com", "ads.example.net"]) is blocked


def test_it_counts_a_sessions_downloads_and_tells_once_when_over():
    told: list[int] = []
    budget = DownloadBudget(100, told.append)
    assert budget.take(60) and budget.take(40)
    assert not budget.take(1)
    assert not budget.take(1000)
    assert told == [100]


@pytest.mark.parametrize(
    "host",
    [
        "10.1.2.3",  # private
        "192.168.1.10",  # private
        "172.16.0.1",  # private
        "169.254.169.254",  # link-local: cloud metadata
        "100.64.0.1",  # carrier-grade NAT
        "[::ffff:10.1.2.3]",  # IPv4-mapped private
        "[fd00::1]",  # unique local IPv6
    ],
)
def test_it_refuses_private_link_local_and_mapped_addresses_before_any_connect(
    recorded, netlog, host
):
    """A page (a redirect, a fetch, an image) asking for a private address gets a refusal, and
    the guard decides before a socket exists: no connect is ever attempted to it."""
    listener = listener_for(recorded, allowlist=LOOPBACK_V4)
    try:
        tunnel = exchange(listener, f"CONNECT {host}:443 HTTP/1.1\r\n\r\n".encode())
        plain = exchange(listener, f"GET http://{host}/ HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
    finally:
        listener.close()
    assert tunnel.startswith(b"HTTP/1.1 403")
    assert plain == b""  # closed unanswered: the page sees a failed request
    assert [r.reason for r in recorded.refusals] == [REASON_POLICY, REASON_POLICY]
    assert netlog.outside() == []
    assert host.strip("[]") not in " ".join(netlog.connects())
