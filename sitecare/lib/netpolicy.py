"""The network policy (SSRF guard): which addresses a tenant's checks may reach.

Denied unless the organization's allowlist admits them: loopback, private (RFC 1918, ULA),
link-local (incl. cloud metadata 169.254.169.254), CGNAT (100.64/10), multicast, reserved,
unspecified, and IPv4-mapped/-translated IPv6 forms of any of those. The outbound HTTP module
calls :func:`is_address_allowed` for every resolved IP at connect time, redirects included;
forms and config-as-code call :func:`refusal_for_url` to refuse literal addresses early.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from urllib.parse import urlsplit

from django.utils.translation import gettext as _

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


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
    target = _unwrap(ip)
    if target in _CGNAT:
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


def blocked_message(address: str) -> str:
    """The one message every refusal by the network policy carries."""
    return _("Address %(address)s is not allowed by the network policy.") % {"address": address}


def refusal_for_url(url: str, allowlist: Sequence[IPNetwork]) -> str | None:
    """Refuse a URL whose host is a literal IP the policy denies; None when not refused."""
    return refusal_for_host(urlsplit(url).hostname or "", allowlist)


def refusal_for_host(host: str, allowlist: Sequence[IPNetwork]) -> str | None:
    """Refuse a literal IP host the policy denies; None when not refused.

    Host names are not resolved here: they are checked at connect time by the engine.
    """
    host = host.strip("[]")
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return None
    if is_address_allowed(ip, allowlist):
        return None
    return blocked_message(host)


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
