"""The network policy (SSRF guard): which addresses a tenant's checks may reach.

Denied unless the organization's allowlist admits them: every range of the IANA IPv4 and IPv6
special-purpose registries that is not globally reachable (loopback, private RFC 1918 and ULA,
link-local with the cloud metadata address 169.254.169.254, CGNAT 100.64/10, the IETF protocol
assignments 192.0.0.0/24 and 2001::/23, documentation and benchmarking ranges including
3fff::/20, site-local fec0::/10, the 6to4 relay anycast 192.88.99.0/24, SRv6 5f00::/16,
multicast, reserved, unspecified), the cloud host services reachable from a VM at a public
address (Azure's 168.63.129.16), and IPv4-mapped/-translated IPv6 forms of any of those. The
list is written here rather than taken from Python's ``ipaddress.is_global``, whose idea of
"global" changes between Python releases. The outbound HTTP module calls
:func:`is_address_allowed` for every resolved IP at connect time, redirects included; forms and
config-as-code call :func:`refusal_for_url` to refuse literal addresses early, and IPv4
addresses written in the resolver's other forms (``2130706433``, ``0x7f.1``, ``127.1``) always.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from urllib.parse import urlsplit

from sitecare.lib.messages import deferred as _

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_NAT64 = ipaddress.ip_network("64:ff9b::/96")
# Not globally reachable, by the IANA special-purpose address registries (RFC 6890 and later),
# whatever this Python's ``is_global`` says: 3.11.7 predates 3fff::/20 (RFC 9637) and calls
# 192.0.0.0/24, 64:ff9b:1::/48 and 5f00::/16 global.
_SPECIAL_PURPOSE = tuple(
    ipaddress.ip_network(net)
    for net in (
        "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
        "172.16.0.0/12", "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16",
        "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
        "::/128", "::1/128", "64:ff9b:1::/48", "100::/64", "100:0:0:1::/64", "2001::/23",
        "2001:db8::/32", "3fff::/20", "5f00::/16", "fc00::/7", "fe80::/10", "fec0::/10",
        "ff00::/8",
    )
)  # fmt: skip
# Cloud host services a virtual machine reaches at a public address: Azure's WireServer (its
# DNS, DHCP and VM agent endpoint). The other clouds' metadata services sit in ranges denied
# above: 169.254.169.254 (AWS, GCP, Azure, Oracle, OpenStack, DigitalOcean, Hetzner), AWS's
# 169.254.170.2 and fd00:ec2::254, GCP's fd20:ce::254, Oracle's 192.0.0.192, Alibaba's
# 100.100.100.200 and Tencent's 169.254.0.23.
_CLOUD_HOST_SERVICES = (ipaddress.ip_network("168.63.129.16/32"),)
_DENIED = _SPECIAL_PURPOSE + _CLOUD_HOST_SERVICES
# One part of an IPv4 address as inet_aton reads it: hex, octal (leading 0) or decimal.
_IPV4_PART = re.compile(r"0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*")


def _unwrap(ip: IPAddress) -> IPAddress:
    """The IPv4 address hidden in an IPv4-mapped, 6to4 or NAT64 IPv6 address, else ip."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return ip.ipv4_mapped
        if ip in _NAT64:
            return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if ip.sixtofour is not None:
            return ip.sixtofour
    return ip


def is_public(ip: IPAddress) -> bool:
    """True for an address on the public Internet: in no denied range, and global to Python."""
    target = _unwrap(ip)
    if any(target.version == net.version and target in net for net in _DENIED):
        return False
    return bool(target.is_global) and not (
        target.is_multicast or target.is_reserved or target.is_unspecified
    )


def is_address_allowed(address: str | IPAddress, allowlist: Sequence[IPNetwork]) -> bool:
    """True when a check may connect to this IP: public, or admitted by the allowlist.

    The allowlist is tested against the address as given and against its unwrapped IPv4 form,
    so ``127.0.0.0/8`` also admits ``::ffff:127.0.0.1`` but ``::1/128`` is needed for ``::1``.
    """
    ip = ipaddress.ip_address(address) if isinstance(address, str) else address
    if isinstance(ip, ipaddress.IPv6Address) and ip.scope_id:
        ip = ipaddress.ip_address(str(ip).split("%", 1)[0])
    candidates = {ip, _unwrap(ip)}
    for net in allowlist:
        if any(c.version == net.version and c in net for c in candidates):
            return True
    return is_public(ip)


def blocked_message(address: str, host: str | None = None) -> str:
    """The one message every refusal by the network policy carries.

    When the refused address is what a host *name* resolved to, the message names the host,
    never the address: a tenant must not learn what the operator's internal names resolve to
    (the address goes to the server's log instead).
    """
    if host and not _is_ip_literal(host):
        return _("The address of %(host)s is not allowed by the network policy.") % {"host": host}
    return _("Address %(address)s is not allowed by the network policy.") % {"address": address}


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        return False
    return True


def refusal_for_url(url: str, allowlist: Sequence[IPNetwork]) -> str | None:
    """Refuse a URL whose host is a literal IP the policy denies; None when not refused."""
    return refusal_for_host(urlsplit(url).hostname or "", allowlist)


def refusal_for_host(host: str, allowlist: Sequence[IPNetwork]) -> str | None:
    """Refuse a literal IP host the policy denies; None when not refused.

    Host names are not resolved here: they are checked at connect time by the engine. An IPv4
    address in a resolver's other forms is refused whatever the policy (see
    :func:`noncanonical_ipv4_refusal`).
    """
    host = host.strip("[]")
    noncanonical = noncanonical_ipv4_refusal(host)
    if noncanonical is not None:
        return noncanonical
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return None
    if is_address_allowed(ip, allowlist):
        return None
    return blocked_message(host)


def ipv4_literal(host: str) -> ipaddress.IPv4Address | None:
    """The IPv4 address a resolver reads in ``host`` (inet_aton's forms), or None.

    1. One to four dot-separated parts, each hex (``0x7f``), octal (``0177``) or decimal.
    2. Every part but the last is one byte; the last fills the bytes that are left, so
       ``127.1`` is 127.0.0.1 and ``2130706433`` is 127.0.0.1 too.
    """
    parts = host.split(".")
    if not 1 <= len(parts) <= 4 or not all(_IPV4_PART.fullmatch(p) for p in parts):
        return None
    values = [_ipv4_part(p) for p in parts]
    last_bits = 8 * (5 - len(values))
    if any(v > 255 for v in values[:-1]) or values[-1] >= 1 << last_bits:
        return None
    number = values[-1]
    for index, value in enumerate(values[:-1]):
        number |= value << (24 - 8 * index)
    return ipaddress.IPv4Address(number)


def _ipv4_part(text: str) -> int:
    if text[:2].lower() == "0x":
        return int(text[2:], 16)
    if text.startswith("0") and len(text) > 1:
        return int(text, 8)
    return int(text)


def noncanonical_ipv4_refusal(host: str) -> str | None:
    """Refuse an IPv4 address not written as four decimal numbers; None when not one.

    Resolvers read ``2130706433``, ``0x7f.1``, ``0177.0.0.1`` or ``127.1`` as 127.0.0.1 while
    Python's ``ipaddress`` takes them for host names, so they would slip past the refusal of
    literal addresses at save time; they are ambiguous, and none is needed: refused always.
    """
    ip = ipv4_literal(host)
    if ip is None or str(ip) == host:
        return None
    return _("%(host)s is an IPv4 address written in an unusual form; write it as %(address)s.") % {
        "host": host,
        "address": ip,
    }


def validate_check_url(url: str) -> str:
    """Return a normalised http(s) URL or raise ValueError saying what is wrong."""
    value = url.strip()
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError as exc:
        raise ValueError(
            _("%(url)s is not a valid address: %(error)s") % {"url": value, "error": exc}
        ) from exc
    if parts.scheme not in ("http", "https"):
        raise ValueError(
            _("The address must start with http:// or https://, got %(url)s") % {"url": value}
        )
    if not parts.hostname:
        raise ValueError(_("The address %(url)s has no host name.") % {"url": value})
    if port == 0:
        raise ValueError(_("The address %(url)s has an invalid port.") % {"url": value})
    if any(ch.isspace() for ch in value):
        raise ValueError(_("The address %(url)s contains spaces.") % {"url": value})
    return value
