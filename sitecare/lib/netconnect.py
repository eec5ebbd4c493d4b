"""Guarded raw TCP connections for the check kinds that speak no HTTP (TCP port, TLS).

The same rules as the outbound HTTP module (:mod:`sitecare.lib.http`), on a bare socket:

- names are resolved with the loop's resolver (names under ``.invalid`` fail without a query,
  IP literals skip the resolver);
- every resolved address passes the connect-time guard (:class:`ConnectGuard`, the one socket
  factory) before a socket exists, so a denied address is never connected to;
- addresses are tried in the resolver's order, each with a fair share of what is left of the
  deadline, so one black-holed address cannot eat the whole budget;
- any failure becomes a :class:`ConnectError` carrying its failure class and a short message.
"""

from __future__ import annotations

import asyncio
import errno
import ipaddress
import re
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from aiohappyeyeballs import AddrInfoType

from sitecare.lib.http import NEVER_RESOLVING_SUFFIX, BlockedAddressError, ConnectGuard
from sitecare.lib.messages import deferred as _
from sitecare.lib.netpolicy import IPNetwork, blocked_message

_HOST_NAME = re.compile(r"^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?\.?)+$")


# Where a raw connection can stop, with the same keys and words as the HTTP module's phases
# (so a timeout reads the same whatever the check kind); lazily translated.
PHASE_LABELS: dict[str, Callable[[], str]] = {
    "dns": lambda: _("while resolving the name"),
    "connect": lambda: _("while connecting"),
    "tls": lambda: _("during the TLS handshake"),
}


def timeout_message(seconds: float, phase: str) -> str:
    """The message of a timeout, naming the phase it stopped in."""
    return _("No answer within %(seconds)s s (%(phase)s).") % {
        "seconds": seconds,
        "phase": PHASE_LABELS[phase](),
    }


class ConnectFailure(StrEnum):
    """Why a raw connection failed (same values as monitoring's FailureClass)."""

    DNS_ERROR = "dns_error"
    CONNECTION_REFUSED = "connection_refused"
    CONNECTION_RESET = "connection_reset"
    TIMEOUT = "timeout"
    BLOCKED_BY_POLICY = "blocked_by_policy"


class ConnectError(Exception):
    """A connection that could not be opened, with its class, phase and a human message."""

    def __init__(self, failure: ConnectFailure, message: str, phase: str = "connect") -> None:
        super().__init__(message)
        self.failure = failure
        self.message = message
        self.phase = phase


@dataclass
class OpenSocket:
    """A connected, non-blocking socket and how long getting it took."""

    sock: socket.socket
    address: str
    dns_ms: float
    connect_ms: float

    def close(self) -> None:
        self.sock.close()


@dataclass
class _Attempts:
    """What went wrong while trying the addresses of one host, for the final verdict."""

    refused: list[str] = field(default_factory=list)
    errors: list[OSError] = field(default_factory=list)


# --- targets ------------------------------------------------------------------------------


def parse_host_port(value: str, default_port: int | None = None) -> tuple[str, int]:
    """Split ``host:port`` (IPv6 as ``[::1]:443``); ValueError saying what is wrong.

    1. Refuse spaces and URLs: a TCP/TLS target is a host, not an address with a scheme.
    2. Split off the port (bracketed IPv6 first); use ``default_port`` when there is none.
    3. Check the host: an IP address, or a host name (IDN converted to its ASCII form).
    """
    text = value.strip()
    if not text or any(ch.isspace() for ch in text) or "/" in text:
        raise ValueError(_("%(value)s is not a host or host:port.") % {"value": value})
    host, port_text = _split(text)
    if port_text is None:
        if default_port is None:
            raise ValueError(_("%(value)s needs a port, like host:443.") % {"value": text})
        return canonical_host(host, text), default_port
    if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
        raise ValueError(_("%(value)s has an invalid port (1-65535).") % {"value": text})
    return canonical_host(host, text), int(port_text)


def _split(text: str) -> tuple[str, str | None]:
    """Host and port text (None when absent) of a target; brackets only around IPv6."""
    if text.startswith("["):
        host, bracket, rest = text[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            raise ValueError(_("%(value)s is not a valid [IPv6]:port.") % {"value": text})
        return host, rest[1:] if rest else None
    if text.count(":") > 1:
        raise ValueError(
            _("Write an IPv6 address in brackets, like [%(value)s]:443.") % {"value": text}
        )
    host, colon, port_text = text.partition(":")
    return host, port_text if colon else None


def canonical_host(host: str, shown: str) -> str:
    """The host in canonical form (lower case, IDN as ASCII); ValueError if it is none."""
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    try:
        name = host.encode("idna").decode("ascii").lower()
    except UnicodeError:
        name = ""
    if not _HOST_NAME.match(name):
        raise ValueError(_("%(value)s does not name a valid host.") % {"value": shown})
    return name


def join_host_port(host: str, port: int) -> str:
    """``host:port`` as people write it: IPv6 in brackets."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


# --- connecting ---------------------------------------------------------------------------


async def resolve(host: str, port: int) -> list[AddrInfoType]:
    """The stream addresses of a host: IP literals as they are, names through the resolver."""
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        family = socket.AF_INET6 if ip.version == 6 else socket.AF_INET
        sockaddr = (host, port, 0, 0) if ip.version == 6 else (host, port)
        return [(family, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", sockaddr)]
    name = host.rstrip(".").lower()
    if name == NEVER_RESOLVING_SUFFIX[1:] or name.endswith(NEVER_RESOLVING_SUFFIX):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [(f, t, p, c, s) for f, t, p, c, s in infos]


async def open_guarded(
    host: str, port: int, *, allowlist: Sequence[IPNetwork], timeout_s: float
) -> OpenSocket:
    """Connect to ``host:port`` under an allowlist within ``timeout_s``; raise ConnectError.

    1. Resolve the host (a failure or a resolver stall is a dns_error / timeout).
    2. Try each address in order through the guard, each with a fair share of the time left.
    3. When none connects, say why: a policy refusal first, then the last connect error.
    """
    loop = asyncio.get_running_loop()
    started = time.perf_counter()
    deadline = loop.time() + timeout_s
    try:
        async with asyncio.timeout(timeout_s):
            infos = await resolve(host, port)
    except TimeoutError:
        raise ConnectError(
            ConnectFailure.TIMEOUT, timeout_message(timeout_s, "dns"), phase="dns"
        ) from None
    except OSError:
        raise ConnectError(
            ConnectFailure.DNS_ERROR,
            _("The name %(host)s does not resolve.") % {"host": host},
            phase="dns",
        ) from None
    resolved = time.perf_counter()
    attempts = _Attempts()
    guard = ConnectGuard(tuple(allowlist))
    for index, info in enumerate(infos):
        share = (deadline - loop.time()) / (len(infos) - index)
        sock = await _try_address(guard, info, share, attempts)
        if sock is not None:
            return OpenSocket(
                sock=sock,
                address=str(info[4][0]),
                dns_ms=(resolved - started) * 1000,
                connect_ms=(time.perf_counter() - resolved) * 1000,
            )
    raise _verdict(attempts, host, port, timeout_s)


async def _try_address(
    guard: ConnectGuard, info: AddrInfoType, timeout_s: float, attempts: _Attempts
) -> socket.socket | None:
    """A socket connected to one address, or None (the reason noted in ``attempts``)."""
    try:
        sock = guard(info)  # refuses a denied address before any socket exists
    except BlockedAddressError as exc:
        attempts.refused.append(exc.address)
        return None
    sock.setblocking(False)
    try:
        async with asyncio.timeout(max(timeout_s, 0.0)):
            await asyncio.get_running_loop().sock_connect(sock, info[4])
    except OSError as exc:  # TimeoutError included: the verdict tells them apart
        attempts.errors.append(exc)
    except BaseException:
        sock.close()
        raise
    else:
        return sock
    sock.close()
    return None


def _verdict(attempts: _Attempts, host: str, port: int, timeout_s: float) -> ConnectError:
    """The one error that sums up the failed attempts on every address of a host."""
    if attempts.refused:
        # As in the HTTP module: a refusal by the policy is the fact worth reporting.
        # A name is named, not what it resolved to (the operator's internal names stay so).
        message = blocked_message(attempts.refused[0], host)
        return ConnectError(ConnectFailure.BLOCKED_BY_POLICY, message)
    last = attempts.errors[-1] if attempts.errors else TimeoutError()
    if isinstance(last, TimeoutError):
        return ConnectError(ConnectFailure.TIMEOUT, timeout_message(timeout_s, "connect"))
    return _connect_error(last, join_host_port(host, port))


def _connect_error(exc: OSError, shown: str) -> ConnectError:
    if exc.errno == errno.ECONNREFUSED:
        return ConnectError(
            ConnectFailure.CONNECTION_REFUSED,
            _("%(host)s refused the connection.") % {"host": shown},
        )
    if exc.errno == errno.ECONNRESET:
        return ConnectError(ConnectFailure.CONNECTION_RESET, _("The connection was reset."))
    return ConnectError(
        ConnectFailure.CONNECTION_REFUSED,
        _("Cannot connect to %(host)s: %(error)s") % {"host": shown, "error": exc.strerror or exc},
    )
