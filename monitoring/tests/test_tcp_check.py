"""The TCP port check against listeners on loopback: open, closed, refused by the policy."""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from pydantic import ValidationError

from monitoring.checks import RUNNERS
from monitoring.checks.tcp import run
from monitoring.engine.target import CheckTarget
from monitoring.failures import FailureClass
from monitoring.models import CheckKind
from monitoring.spec import parse_monitor
from monitoring.tests.loopback import CountingListener, arun, free_port, needs_ipv6
from sitecare.lib.http import OutboundClient
from sitecare.lib.netpolicy import blocked_message

pytestmark = pytest.mark.usefixtures("netlog")

LOOPBACK = (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128"))


def check(url: str, allowlist=LOOPBACK, timeout_s: float = 3.0, **config):
    target = CheckTarget(
        monitor_id=5,
        kind=CheckKind.TCP,
        url=url,
        config=config,
        interval_s=60,
        timeout_s=timeout_s,
        allowlist=tuple(allowlist),
    )

    async def scenario():
        async with OutboundClient() as client:
            return await run(target, client)

    return arun(scenario())


@contextmanager
def blackhole() -> Iterator[int]:
    """A loopback port whose accept queue is full, so new connects hang (SYNs are dropped).

    Yields the port. Linux drops a SYN when the listener's queue is full, which is what a
    firewall that silently drops packets looks like from the client.
    """
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = [socket.socket() for _ in range(4)]
    for filler in fillers:
        filler.setblocking(False)
        filler.connect_ex(("127.0.0.1", port))
    time.sleep(0.1)
    try:
        yield port
    finally:
        for filler in fillers:
            filler.close()
        listener.close()


def test_it_registers_the_tcp_runner():
    assert RUNNERS[CheckKind.TCP] is run


@pytest.mark.parametrize(
    ("listen_on", "host"),
    [
        ("127.0.0.1", "127.0.0.1"),
        ("127.0.0.1", "localhost"),
        pytest.param("::1", "[::1]", marks=needs_ipv6),
    ],
)
def test_it_is_up_when_the_port_is_open_with_the_connect_time(netlog, listen_on, host):
    with CountingListener(listen_on) as listener:
        outcome = check(f"{host}:{listener.port}")
    assert outcome.ok, outcome
    assert outcome.failure_class == FailureClass.NONE
    assert outcome.connect_ms is not None and outcome.connect_ms >= 0
    assert outcome.details["address"] == listen_on
    kinds = [kind for kind, _address in netlog.events]
    assert kinds.index("allow") < kinds.index("connect")


def test_it_is_down_with_connection_refused_on_a_closed_port():
    outcome = check(f"127.0.0.1:{free_port()}")
    assert not outcome.ok
    assert outcome.failure_class == FailureClass.CONNECTION_REFUSED
    assert "refused" in outcome.message


def test_it_is_up_on_a_closed_port_that_must_be_closed():
    outcome = check(f"127.0.0.1:{free_port()}", expect="closed")
    assert outcome.ok, outcome
    assert "closed" in outcome.message


def test_it_is_down_on_an_open_port_that_must_be_closed():
    with CountingListener() as listener:
        outcome = check(f"127.0.0.1:{listener.port}", expect="closed")
    assert not outcome.ok
    assert "must be closed" in outcome.message


def test_it_times_out_in_the_connect_phase_on_a_port_that_drops_packets():
    with blackhole() as port:
        started = time.monotonic()
        outcome = check(f"127.0.0.1:{port}", timeout_s=1.0)
        elapsed = time.monotonic() - started
    assert outcome.failure_class == FailureClass.TIMEOUT
    assert outcome.details["phase"] == "connect"
    assert "while connecting" in outcome.message
    assert elapsed < 2.0


def test_it_counts_a_port_that_drops_packets_as_closed_when_it_must_be_closed():
    with blackhole() as port:
        assert check(f"127.0.0.1:{port}", timeout_s=0.5, expect="closed").ok


def test_it_is_a_dns_error_without_any_query_for_an_invalid_name(netlog):
    outcome = check("db.shop.invalid:5432")
    assert outcome.failure_class == FailureClass.DNS_ERROR
    assert "db.shop.invalid" in outcome.message
    assert netlog.lookups == [] and netlog.connects() == []


def test_it_does_not_call_an_unresolvable_name_closed(netlog):
    assert not check("db.shop.invalid:5432", expect="closed").ok


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::ffff:127.0.0.1]"])
def test_it_refuses_loopback_with_an_empty_allowlist_and_the_listener_sees_nothing(netlog, host):
    with CountingListener() as listener:
        outcome = check(f"{host}:{listener.port}", allowlist=())
    assert outcome.failure_class == FailureClass.BLOCKED_BY_POLICY
    refused = [address for kind, address in netlog.events if kind == "refuse"]
    # A name is named, never the address it resolved to.
    assert refused and outcome.message == blocked_message(refused[0], host)
    assert ("127.0.0.1" in outcome.message) is (host != "localhost")
    assert listener.accepted == 0
    assert netlog.connects() == []


def test_it_never_reads_a_policy_refusal_as_a_closed_port(netlog):
    with CountingListener() as listener:
        outcome = check(f"127.0.0.1:{listener.port}", allowlist=(), expect="closed")
    assert outcome.failure_class == FailureClass.BLOCKED_BY_POLICY
    assert listener.accepted == 0


@pytest.mark.parametrize("address", ["10.0.0.1", "169.254.169.254", "[fd00::1]", "[::]"])
def test_it_refuses_private_addresses_before_any_socket_exists(netlog, address):
    outcome = check(f"{address}:22")
    assert outcome.failure_class == FailureClass.BLOCKED_BY_POLICY
    assert netlog.connects() == []


# --- definitions ----------------------------------------------------------------------------


def errors_of(data: dict) -> dict[str, str]:
    with pytest.raises(ValidationError) as info:
        parse_monitor(data, [])
    return {".".join(str(p) for p in e["loc"]): e["msg"] for e in info.value.errors()}


@pytest.mark.parametrize(
    ("url", "stored"),
    [
        ("DB.Shop.Example:5432", "db.shop.example:5432"),
        (" smtp.shop.example:25 ", "smtp.shop.example:25"),
        ("[2606:4700:0::1]:443", "[2606:4700::1]:443"),
        ("8.8.8.8:53", "8.8.8.8:53"),
    ],
)
def test_it_normalizes_tcp_targets(url, stored):
    definition = parse_monitor({"name": "Port", "kind": "tcp", "url": url}, [])
    assert definition.common.url == stored
    assert definition.options == {}


@pytest.mark.parametrize(
    "url",
    [
        "shop.example",
        "shop.example:",
        "shop.example:70000",
        "shop.example:http",
        "2606:4700::1:443",
        "[2606:4700::1]443",
        "tcp://shop.example:25",
        "bad_host!:25",
    ],
)
def test_it_names_the_url_field_for_a_bad_target(url):
    errs = errors_of({"name": "x", "kind": "tcp", "url": url})
    assert list(errs) == ["url"]


def test_it_names_an_unknown_or_bad_option():
    errs = errors_of({"name": "x", "kind": "tcp", "url": "a.example:1", "expects": "open"})
    assert list(errs) == ["expects"] and "Extra inputs" in errs["expects"]
    errs = errors_of({"name": "x", "kind": "tcp", "url": "a.example:1", "expect": "ajar"})
    assert list(errs) == ["expect"]


def test_it_keeps_a_non_default_expectation():
    data = {"name": "DB", "kind": "tcp", "url": "db.example:5432", "expect": "closed"}
    assert parse_monitor(data, []).options == {"expect": "closed"}


@pytest.mark.parametrize("url", ["127.0.0.1:22", "[::1]:22", "10.1.2.3:3306"])
def test_it_refuses_a_literal_private_address_on_the_url_field(url):
    errs = errors_of({"name": "x", "kind": "tcp", "url": url})
    assert list(errs) == ["url"]
    assert "not allowed by the network policy" in errs["url"]
