"""The network policy's rules on their own: which addresses are public, which host texts are
IPv4 addresses in a resolver's other forms."""

from __future__ import annotations

import ipaddress
import socket

import pytest

from sitecare.lib.netpolicy import ipv4_literal, is_address_allowed, noncanonical_ipv4_refusal


@pytest.mark.parametrize(
    "address",
    ["fec0::1", "feff::1", "192.88.99.1", "2002:c058:6301::1", "::ffff:192.88.99.7"],
)
def test_it_refuses_site_local_and_6to4_relay_addresses(address):
    assert not is_address_allowed(address, [])
    assert is_address_allowed(address, [ipaddress.ip_network(address)])


@pytest.mark.parametrize(
    "host",
    ["2130706433", "0x7f.1", "127.1", "10.1", "0177.0.0.1", "0x7F000001", "127.0.1", "01.2.3.4"],
)
def test_it_reads_a_host_as_the_resolver_does(host):
    # The C library's reading is the reference: it is what a connect would reach.
    assert ipv4_literal(host) == ipaddress.IPv4Address(socket.inet_aton(host))
    assert "written in an unusual form" in (noncanonical_ipv4_refusal(host) or "")
    # Canonical addresses and names that are no address are left alone.
    for other in ["127.0.0.1", "10.0.0.1", "example.com", "1.2.3.4.5", "4294967296", "0x", ""]:
        assert noncanonical_ipv4_refusal(other) is None


@pytest.mark.parametrize(
    "address",
    [
        "192.0.0.8",  # IETF protocol assignments, 192.0.0.0/24
        "192.0.0.192",  # Oracle Cloud's metadata service
        "168.63.129.16",  # Azure's WireServer, reachable from every VM
        "3fff::1",  # documentation, RFC 9637
        "3fff:fff::1",
        "5f00::1",  # SRv6 SIDs, RFC 9602
        "64:ff9b:1::a00:1",  # local-use NAT64, RFC 8215
        "100:0:0:1::1",  # the dummy IPv6 prefix
        "2001:2::1",  # benchmarking, inside 2001::/23
        "198.18.0.1",
        "::ffff:168.63.129.16",
    ],
)
def test_it_denies_special_purpose_ranges_and_cloud_host_services_whatever_python_says(address):
    # Written out in netpolicy, not left to this Python's ``ipaddress.is_global``.
    assert not is_address_allowed(address, [])
    assert is_address_allowed(address, [ipaddress.ip_network(address)])


@pytest.mark.parametrize("address", ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"])
def test_it_still_admits_public_addresses(address):
    assert is_address_allowed(address, [])
