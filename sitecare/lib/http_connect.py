"""Opening an outbound connection: resolve, the SSRF guard on every address, connect, TLS.

1. A host name is resolved with the loop's resolver (names under ``.invalid`` fail without
   a query, RFC 6761 §6.4); an IP literal skips the resolver.
2. Every resolved address goes through :class:`ConnectGuard` *before a socket exists*; a
   refused address is never connected to.
3. The admitted addresses are tried in the resolver's order, each with a fair share of the
   time left (so one black-holed address cannot eat the whole deadline), on a non-blocking
   socket with ``loop.sock_connect``.
4. The connected socket is handed to ``loop.create_connection(sock=…)``, with the TLS context
   and server name for https, so the handshake runs on the loop's own TLS layer.
"""

from __future__ import annotations

import asyncio
import errno
import functools
import ipaddress
import os
import socket
import ssl
import time
from dataclasses import dataclass, field
from typing import Any

from sitecare.lib.http_errors import (
    FetchError,
    FetchFailure,
    connect_error,
    dns_error,
    tls_error,
    unexpected_error,
)
from sitecare.lib.http_timing import HopTiming
from sitecare.lib.http_wire import WireProtocol
from sitecare.lib.netpolicy import IPNetwork, blocked_message, is_address_allowed

# Special-use names that must never resolve (RFC 6761 §6.4): answered here, no query is sent.
NEVER_RESOLVING_SUFFIX = ".invalid"

# Verdicts a guard remembers (addresses of the targets it connects to) before starting over.
MAX_REMEMBERED = 4096

# (family, type, proto, canonname, sockaddr), as getaddrinfo gives them.
AddrInfo = tuple[int, int, int, str, tuple[Any, ...]]


class BlockedAddressError(OSError):
    """Raised by the guard instead of creating a socket for a denied address."""

    def __init__(self, address: str) -> None:
        super().__init__(errno.EACCES, blocked_message(address))
        self.address = address


def open_socket(family: int, type_: int, proto: int) -> socket.socket:
    """Create the socket for an admitted address (the one place sockets are made)."""
    return socket.socket(family=family, type=type_, proto=proto)


@functools.lru_cache(maxsize=4096)
def shown_address(address: str) -> str:
    """An address as people write it: IPv4-mapped IPv6 keeps its dotted IPv4 part."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return f"::ffff:{ip.ipv4_mapped}"
    return address


@dataclass(frozen=True)
class ConnectGuard:
    """The socket factory: refuses denied addresses before any socket exists."""

    allowlist: tuple[IPNetwork, ...]
    # Verdicts by address: the policy is a pure function of the address and this allowlist.
    _verdicts: dict[str, bool] = field(default_factory=dict, compare=False, repr=False)

    def __call__(self, addr_info: AddrInfo) -> socket.socket:
        family, type_, proto, _canonname, sockaddr = addr_info
        address = shown_address(str(sockaddr[0]))
        if not self.admits(address):
            raise BlockedAddressError(address)
        return open_socket(int(family), int(type_), proto)

    def admits(self, address: str) -> bool:
        verdict = self._verdicts.get(address)
        if verdict is None:
            try:
                verdict = is_address_allowed(address, self.allowlist)
            except ValueError:  # not an IP address at all: never connect to what we cannot judge
                verdict = False
            if len(self._verdicts) >= MAX_REMEMBERED:
                self._verdicts.clear()
            self._verdicts[address] = verdict
        return verdict


@functools.lru_cache(maxsize=4096)
def literal_addresses(host: str, port: int) -> tuple[AddrInfo, ...] | None:
    """The one address of an IP literal host, or None for a name that needs resolving."""
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return None
    if ip.version == 6:
        return ((socket.AF_INET6, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (host, port, 0, 0)),)
    return ((socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (host, port)),)


async def resolve_name(host: str, port: int, shown_host: str) -> tuple[AddrInfo, ...]:
    """The stream addresses of a host name; a FetchError (dns_error) when it has none."""
    name = host.rstrip(".").lower()
    if name == NEVER_RESOLVING_SUFFIX[1:] or name.endswith(NEVER_RESOLVING_SUFFIX):
        raise dns_error(shown_host)
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise dns_error(shown_host) from None
    if not infos:
        raise dns_error(shown_host)
    return tuple((int(f), int(t), p, c, s) for f, t, p, c, s in infos)


@dataclass(frozen=True, slots=True)
class Destination:
    """Where one hop connects: the host as written (for messages), as sent, and the port."""

    shown_host: str  # the URL's host, for messages (Unicode names stay readable)
    host: str  # the host to resolve and to name in TLS (IDNA-encoded)
    port: int
    tls: ssl.SSLContext | None


async def open_connection(
    dest: Destination, guard: ConnectGuard, hop: HopTiming, deadline: float
) -> tuple[asyncio.Transport, WireProtocol]:
    """A connection to ``dest`` through the guard (TLS set up for https); raise FetchError.

    1. Resolve (IP literals as they are), timing the lookup.
    2. Connect to the first admitted address that answers (see :func:`connect_first`).
    3. Wrap the socket into a transport, with the TLS handshake for https.
    """
    infos = literal_addresses(dest.host, dest.port)
    if infos is None:
        hop.phase = "dns"
        hop.dns_start = time.perf_counter()
        infos = await resolve_name(dest.host, dest.port, dest.shown_host)
        hop.dns_end = time.perf_counter()
        hop.phase = "connect"
    sock = await connect_first(infos, dest, guard, hop, deadline)
    hop.tcp_end = time.perf_counter()
    protocol = WireProtocol()
    loop = asyncio.get_running_loop()
    try:
        if dest.tls is None:
            transport, _ = await loop.create_connection(lambda: protocol, sock=sock)
        else:
            hop.phase = "tls"
            transport, _ = await loop.create_connection(
                lambda: protocol, sock=sock, ssl=dest.tls, server_hostname=dest.host
            )
            hop.tls_end = time.perf_counter()
    except (OSError, ValueError) as exc:  # ssl.SSLError (and CertificateError) included
        sock.close()
        raise (tls_error(exc) if dest.tls is not None else unexpected_error(exc)) from exc
    except BaseException:
        sock.close()
        raise
    hop.phase = "wait"
    return transport, protocol


async def connect_first(
    infos: tuple[AddrInfo, ...],
    dest: Destination,
    guard: ConnectGuard,
    hop: HopTiming,
    deadline: float,
) -> socket.socket:
    """A socket connected to the first of ``dest``'s addresses that is admitted and answers;
    FetchError if none.

    1. Ask the guard for each address in order; a refused one is noted and skipped.
    2. Connect, with a fair share of the time left while more addresses remain.
    3. When none connects, a refusal by the policy is the fact worth reporting; otherwise
       the last error decides (a share that ran out is a timeout of the connect phase).
    """
    loop = asyncio.get_running_loop()
    refused: list[str] = []
    errors: list[OSError] = []
    count = len(infos)
    for index, info in enumerate(infos):
        try:
            sock = guard(info)
        except BlockedAddressError as exc:
            refused.append(exc.address)
            continue
        if hop.tcp_start is None:
            hop.tcp_start = time.perf_counter()
        try:
            sock.setblocking(False)
            if index + 1 < count:
                share = max((deadline - loop.time()) / (count - index), 0.0)
                async with asyncio.timeout(share):
                    await sock_connect(loop, sock, info[4])
            else:
                await sock_connect(loop, sock, info[4])
        except OSError as exc:  # TimeoutError included: the verdict tells them apart
            sock.close()
            errors.append(exc)
            continue
        except BaseException:
            sock.close()
            raise
        return sock
    if refused:
        # A name is named, not what it resolved to (the operator's internal names stay so).
        message = blocked_message(refused[0], dest.shown_host)
        raise FetchError(FetchFailure.BLOCKED_BY_POLICY, message)
    last = errors[-1] if errors else TimeoutError()
    if isinstance(last, TimeoutError):
        raise TimeoutError  # the exchange's deadline handler names the connect phase
    raise connect_error(last, f"{dest.shown_host}:{dest.port}")


async def sock_connect(
    loop: asyncio.AbstractEventLoop, sock: socket.socket, address: tuple[Any, ...]
) -> None:
    """Connect a non-blocking socket to an IP address: ``loop.sock_connect``'s steps.

    asyncio's own loops take exactly these steps; uvloop's ``sock_connect`` first resolves
    the address again, though it is already an IP here, through ``getaddrinfo`` (about 20 µs
    of CPU per connect, a sixth of a whole check), so on other loops the connect is awaited
    here: try it, wait until the socket is writable, read the outcome from ``SO_ERROR``.
    """
    if isinstance(loop, asyncio.BaseEventLoop):
        await loop.sock_connect(sock, address)
        return
    try:
        sock.connect(address)
    except (BlockingIOError, InterruptedError):
        pass
    else:
        return
    try:
        sock.getpeername()  # a nearby peer often completes the handshake within connect()
    except OSError:
        pass
    else:
        return
    fd = sock.fileno()
    writable = loop.create_future()
    loop.add_writer(fd, _resolve, writable)
    try:
        await writable
    finally:
        loop.remove_writer(fd)
    error = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
    if error:
        raise OSError(error, os.strerror(error))  # OSError picks the subclass of the errno


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
