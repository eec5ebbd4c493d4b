"""The address of the client a request came from, seen through the proxies we trust.

It is the peer of the connection (``REMOTE_ADDR``), unless that peer is one of the proxies
in ``SITECARE_TRUSTED_PROXIES`` (by default loopback: a reverse proxy on this machine), whose
``X-Forwarded-For`` is then believed; anyone else's header is ignored, since anyone can send
one. Behind a proxy elsewhere, list its address, or every visitor looks like the proxy (one
login throttle for all); set it empty to believe no proxy at all.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from django.conf import settings
from django.http import HttpRequest

from sitecare.lib.env import IPNetwork

UNKNOWN = "unknown"


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address in ``text``; an IPv4-mapped IPv6 one (a dual-stack socket's) as IPv4."""
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _trusted(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address, proxies: Sequence[IPNetwork]
) -> bool:
    return any(address in network for network in proxies)


def client_address(request: HttpRequest, proxies: Sequence[IPNetwork] | None = None) -> str:
    """The client's IP address as text (``"unknown"`` when the peer has none).

    1. The peer (``REMOTE_ADDR``) is the client unless it is a trusted proxy.
    2. Behind trusted proxies, walk ``X-Forwarded-For`` from its right end, where each proxy
       appended the address that connected to it: the first entry that is not a trusted proxy
       is the client. Entries further left were sent by the client and are never believed.
    3. An entry that is not an IP address (a proxy's "unknown") ends the walk at the last
       trusted hop, so a malformed header never gives each request an address of its own.
    """
    if proxies is None:
        proxies = settings.SITECARE_TRUSTED_PROXIES
    peer = _address(str(request.META.get("REMOTE_ADDR") or ""))
    if peer is None:
        return UNKNOWN
    current = peer
    if proxies:
        forwarded = str(request.META.get("HTTP_X_FORWARDED_FOR") or "")
        hops = [hop for hop in forwarded.split(",") if hop.strip()]
        while _trusted(current, proxies) and hops:
            previous = _address(hops.pop())
            if previous is None:
                break
            current = previous
    return str(current)
