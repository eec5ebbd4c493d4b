"""The DNS check against a real DNS server on loopback, started by the tests (never another)."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
from contextlib import asynccontextmanager

import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset
import pytest
from pydantic import ValidationError

from monitoring.checks import RUNNERS
from monitoring.checks import dns as dns_check
from monitoring.checks.dns import Options, run
from monitoring.engine.store import load_targets
from monitoring.engine.target import CheckTarget
from monitoring.failures import FailureClass
from monitoring.models import CheckKind, Monitor
from monitoring.spec import parse_monitor
from monitoring.tests.loopback import arun
from sitecare.lib.http import OutboundClient

pytestmark = pytest.mark.usefixtures("netlog")

LOOPBACK = (ipaddress.ip_network("127.0.0.0/8"),)

# The zone the test server answers: (name, type) -> values in zone-file syntax.
ZONE: dict[tuple[str, str], list[str]] = {
    ("shop.example.", "A"): ["192.0.2.10", "192.0.2.11"],
    ("shop.example.", "AAAA"): ["2001:db8::10"],
    ("shop.example.", "MX"): ["10 mx1.shop.example.", "20 MX2.Shop.Example."],
    ("shop.example.", "TXT"): ['"v=spf1 " "include:mail.example -all"'],
    ("shop.example.", "NS"): ["ns1.shop.example.", "ns2.shop.example."],
    ("www.shop.example.", "CNAME"): ["shop.example."],
    ("xn--bcher-kva.example.", "A"): ["192.0.2.20"],
}
NAMES = {name for name, _type in ZONE}
BROKEN = "broken.example."  # answered SERVFAIL


class ZoneServer(asyncio.DatagramProtocol):
    """A tiny authoritative DNS server over UDP that answers from ``ZONE``; counts queries."""

    def __init__(self) -> None:
        self.transport: asyncio.DatagramTransport | None = None
        self.queries: list[tuple[str, str]] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # a datagram endpoint's

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        query = dns.message.from_wire(data)
        assert self.transport is not None
        self.transport.sendto(self.answer(query).to_wire(), addr)

    def answer(self, query: dns.message.Message) -> dns.message.Message:
        question = query.question[0]
        name, rdtype = question.name.to_text().lower(), dns.rdatatype.to_text(question.rdtype)
        self.queries.append((name, rdtype))
        response = dns.message.make_response(query)
        if name == BROKEN:
            response.set_rcode(dns.rcode.SERVFAIL)
        elif name not in NAMES:
            response.set_rcode(dns.rcode.NXDOMAIN)
        else:
            self.add_records(response, name, rdtype)
        return response

    def add_records(self, response: dns.message.Message, name: str, rdtype: str) -> None:
        # Follow a CNAME as a real server does, so the resolver sees the whole chain.
        alias = ZONE.get((name, "CNAME"))
        if alias and rdtype != "CNAME":
            response.answer.append(dns.rrset.from_text(name, 300, "IN", "CNAME", *alias))
            name = alias[0]
        values = ZONE.get((name, rdtype))
        if values:
            response.answer.append(dns.rrset.from_text(name, 300, "IN", rdtype, *values))


def udp_socket() -> socket.socket:
    """A UDP socket bound to a free port of 127.0.0.1."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    return sock


@asynccontextmanager
async def zone_server(sock: socket.socket | None = None):
    """Serve ``ZONE`` on a UDP socket of 127.0.0.1; yield (server, "127.0.0.1:port")."""
    loop = asyncio.get_running_loop()
    transport, server = await loop.create_datagram_endpoint(ZoneServer, sock=sock or udp_socket())
    port = transport.get_extra_info("sockname")[1]
    try:
        yield server, f"127.0.0.1:{port}"
    finally:
        transport.close()


def quiet_socket() -> socket.socket:
    """A UDP socket on loopback that never answers; what arrived can be read afterwards."""
    sock = udp_socket()
    sock.setblocking(False)
    return sock


def packets_waiting(sock: socket.socket) -> int:
    count = 0
    while True:
        try:
            sock.recv(4096)
        except BlockingIOError:
            return count
        count += 1


def target(name: str, timeout_s: float = 3.0, allowlist=LOOPBACK, **config) -> CheckTarget:
    return CheckTarget(
        monitor_id=7,
        kind=CheckKind.DNS,
        url=name,
        config=config,
        interval_s=60,
        timeout_s=timeout_s,
        allowlist=allowlist,
    )


def check(name: str, **config):
    """Run one check of ``name`` against the zone server; return (outcome, queries seen)."""

    async def scenario():
        async with zone_server() as (server, resolver), OutboundClient() as client:
            outcome = await run(target(name, resolver=resolver, **config), client)
            return outcome, server.queries

    return arun(scenario())


def test_it_registers_the_dns_runner():
    assert RUNNERS[CheckKind.DNS] is run


def test_it_is_up_with_any_answer_when_nothing_is_expected():
    outcome, queries = check("shop.example")
    assert outcome.ok, outcome
    assert outcome.failure_class == FailureClass.NONE
    assert outcome.details["answers"] == ["192.0.2.10", "192.0.2.11"]
    assert outcome.details["ttl"] == 300
    assert outcome.response_ms is not None
    assert queries == [("shop.example.", "A")]


def test_it_is_up_when_the_answers_are_exactly_the_expected_set():
    outcome, _q = check("shop.example", expected=["192.0.2.11", "192.0.2.10"])
    assert outcome.ok, outcome
    assert outcome.details["missing"] == [] and outcome.details["unexpected"] == []


def test_it_fails_all_matching_on_an_extra_answer_as_assertion_failed():
    outcome, _q = check("shop.example", expected=["192.0.2.10"])
    assert not outcome.ok
    assert outcome.failure_class == FailureClass.ASSERTION_FAILED
    assert outcome.details["unexpected"] == ["192.0.2.11"]
    assert "192.0.2.11" in outcome.message


def test_it_accepts_one_expected_value_with_any_matching():
    outcome, _q = check("shop.example", expected=["192.0.2.10", "198.51.100.1"], match="any")
    assert outcome.ok, outcome


def test_it_reports_a_mismatch_as_assertion_failed_naming_the_missing_value():
    outcome, _q = check("shop.example", expected=["198.51.100.1"], match="any")
    assert outcome.failure_class == FailureClass.ASSERTION_FAILED
    assert outcome.details["missing"] == ["198.51.100.1"]
    assert "198.51.100.1" in outcome.message


def test_it_compares_aaaa_addresses_in_canonical_form():
    outcome, _q = check("shop.example", record_type="AAAA", expected=["2001:DB8:0::10"])
    assert outcome.ok, outcome


def test_it_matches_mx_hosts_case_insensitively_with_or_without_preference():
    outcome, _q = check(
        "shop.example", record_type="MX", expected=["mx2.shop.example", "10 MX1.shop.example."]
    )
    assert outcome.ok, outcome
    assert outcome.details["answers"] == ["10 mx1.shop.example", "20 mx2.shop.example"]


def test_it_fails_an_mx_with_the_wrong_preference():
    outcome, _q = check(
        "shop.example", record_type="mx", expected=["30 mx1.shop.example"], match="any"
    )
    assert outcome.failure_class == FailureClass.ASSERTION_FAILED


def test_it_joins_txt_strings_and_compares_them_exactly():
    ok, _q = check(
        "shop.example", record_type="TXT", expected=['"v=spf1 include:mail.example -all"']
    )
    assert ok.ok, ok
    wrong_case, _q = check(
        "shop.example", record_type="TXT", expected=["V=SPF1 include:mail.example -all"]
    )
    assert wrong_case.failure_class == FailureClass.ASSERTION_FAILED


def test_it_reads_ns_and_cname_records():
    ns, _q = check(
        "shop.example", record_type="NS", expected=["NS1.shop.example", "ns2.shop.example"]
    )
    assert ns.ok, ns
    cname, _q = check("www.shop.example", record_type="CNAME", expected=["shop.example"])
    assert cname.ok, cname


def test_it_follows_a_cname_to_the_addresses():
    outcome, _q = check("www.shop.example", expected=["192.0.2.10", "192.0.2.11"])
    assert outcome.ok, outcome


def test_it_asks_for_an_internationalised_name_in_its_ascii_form():
    name = parse_monitor({"name": "x", "kind": "dns", "url": "Bücher.example"}, []).common.url
    assert name == "xn--bcher-kva.example"
    outcome, queries = check(name)
    assert outcome.ok, outcome
    assert queries == [("xn--bcher-kva.example.", "A")]


def test_it_classifies_nxdomain_as_dns_error_saying_so():
    outcome, _q = check("nothing-here.example")
    assert outcome.failure_class == FailureClass.DNS_ERROR
    assert "NXDOMAIN" in outcome.message and "nothing-here.example" in outcome.message


def test_it_classifies_a_missing_record_type_as_dns_error_saying_so():
    outcome, _q = check("shop.example", record_type="CNAME")
    assert outcome.failure_class == FailureClass.DNS_ERROR
    assert "no CNAME record" in outcome.message


def test_it_classifies_servfail_as_dns_error_saying_so():
    outcome, _q = check("broken.example")
    assert outcome.failure_class == FailureClass.DNS_ERROR
    assert "SERVFAIL" in outcome.message


def test_it_times_out_on_a_resolver_that_never_answers_within_timeout_plus_one_second():
    async def scenario():
        with quiet_socket() as sock:
            resolver = f"127.0.0.1:{sock.getsockname()[1]}"
            async with OutboundClient() as client:
                started = time.monotonic()
                outcome = await run(
                    target("shop.example", timeout_s=1.0, resolver=resolver), client
                )
                return outcome, time.monotonic() - started, packets_waiting(sock)

    outcome, elapsed, packets = arun(scenario())
    assert outcome.failure_class == FailureClass.TIMEOUT
    assert not outcome.ok
    assert 0.9 <= elapsed < 2.0
    assert packets >= 1  # it did ask


def test_it_refuses_a_resolver_the_policy_denies_without_sending_anything(netlog):
    async def scenario():
        with quiet_socket() as sock:
            resolver = f"127.0.0.1:{sock.getsockname()[1]}"
            async with OutboundClient() as client:
                outcome = await run(target("shop.example", allowlist=(), resolver=resolver), client)
            return outcome, packets_waiting(sock)

    outcome, packets = arun(scenario())
    assert outcome.failure_class == FailureClass.BLOCKED_BY_POLICY
    assert "127.0.0.1" in outcome.message
    assert packets == 0
    assert netlog.connects() == []


def test_it_uses_the_system_resolver_configuration_when_no_resolver_is_named(tmp_path, monkeypatch):
    conf = tmp_path / "resolv.conf"
    conf.write_text("nameserver 127.0.0.1\nnameserver ::1\n")
    monkeypatch.setattr(dns_check, "RESOLV_CONF", str(conf))
    dns_check.system_resolver.cache_clear()
    try:
        resolver = dns_check.make_resolver(None)  # built only: nothing is asked
        assert [str(ns) for ns in resolver.nameservers] == ["127.0.0.1", "::1"]
        assert dns_check.make_resolver(None) is resolver  # read once per process
    finally:
        dns_check.system_resolver.cache_clear()


def test_it_reports_stored_options_that_no_longer_validate():
    outcome = arun(run(target("shop.example", bogus=True), OutboundClient()))
    assert outcome.failure_class == FailureClass.INTERNAL_ERROR
    assert "bogus" in outcome.message


def test_it_runs_a_monitor_saved_from_a_definition_through_the_engine_loader(world):
    world.agency.ssrf_allowlist = "127.0.0.0/8"
    world.agency.save()
    sock = udp_socket()
    definition = parse_monitor(
        {
            "name": "DNS",
            "kind": "dns",
            "url": "Shop.Example.",
            "resolver": f"127.0.0.1:{sock.getsockname()[1]}",
            "expected": ["192.0.2.10", "192.0.2.11"],
        },
        world.agency.allowed_networks(),
    )
    monitor = Monitor.objects.create(site=world.site_a, **definition.model_fields_for())
    found = load_targets()[monitor.pk]
    assert found.url == "shop.example" and found.allowlist == LOOPBACK

    async def scenario():
        async with zone_server(sock), OutboundClient() as client:
            return await RUNNERS[found.kind](found, client)

    outcome = arun(scenario())
    assert outcome.ok, outcome
    assert outcome.monitor_id == monitor.pk


def errors_of(data: dict) -> dict[str, str]:
    with pytest.raises(ValidationError) as info:
        parse_monitor({"name": "x", "kind": "dns", **data}, [])
    return {".".join(str(p) for p in e["loc"]): e["msg"] for e in info.value.errors()}


@pytest.mark.parametrize(
    "name",
    [
        "https://shop.example/",
        "shop example",
        "-shop.example",
        "shop..example",
        "192.0.2.1",
        "shop",
        "a" * 64 + ".example",
        "shop.example:53",
    ],
)
def test_it_refuses_a_bad_domain_name_on_the_url_field(name):
    errs = errors_of({"url": name})
    assert list(errs) == ["url"]


def test_it_refuses_an_unknown_record_type_on_its_field():
    errs = errors_of({"url": "shop.example", "record_type": "SOA"})
    assert list(errs) == ["record_type"]
    assert "MX" in errs["record_type"]


@pytest.mark.parametrize("resolver", ["dns.google", "9.9.9.9:0", "9.9.9.9:70000", "[::1", "1.2.3"])
def test_it_refuses_a_resolver_that_is_not_an_ip_address_on_its_field(resolver):
    errs = errors_of({"url": "shop.example", "resolver": resolver})
    assert list(errs) == ["resolver"]


def test_it_refuses_expected_values_of_the_wrong_shape_on_the_expected_field():
    assert list(errors_of({"url": "shop.example", "expected": ["2001:db8::1"]})) == ["expected"]
    mx = errors_of({"url": "shop.example", "record_type": "MX", "expected": ["ten mx.example"]})
    assert list(mx) == ["expected"]


def test_it_stores_the_options_normalised():
    definition = parse_monitor(
        {
            "name": "x",
            "kind": "dns",
            "url": "shop.example",
            "record_type": "mx",
            "expected": ["10 MX1.Shop.Example.", "10 mx1.shop.example"],
            "resolver": " 9.9.9.9:53 ",
        },
        [],
    )
    assert definition.options == {
        "record_type": "MX",
        "expected": ["10 mx1.shop.example"],
        "resolver": "9.9.9.9",
    }
    assert Options.model_validate(definition.options).resolver == "9.9.9.9"
