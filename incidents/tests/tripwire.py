"""A tripwire under the alert delivery guard: what reaches the sockets, and only on loopback.

The delivery guard (:mod:`incidents.delivery_guard`) checks each connect and send, then hands
what it admits to the socket's own methods, which it keeps as ``_real_connect``,
``_real_connect_ex``, ``_real_sendto`` and ``_real_sendmsg``; names are resolved through its
``_real_getaddrinfo``. :func:`install_delivery_tripwire` takes their place for one test:

1. Every address that reaches a socket is recorded, so a test can show that the guard refused
   *before* any connect or send (nothing recorded).
2. An address off loopback is refused there (``ENETUNREACH``): even a broken guard sends
   nothing off this machine.
3. Only literal addresses and the names of ``/etc/hosts`` are resolved; any other name fails
   without a question to a DNS server.
"""

from __future__ import annotations

import errno
import ipaddress
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from incidents import delivery_guard
from monitoring.tests.loopback import is_loopback

HOSTS = Path("/etc/hosts")
NSSWITCH = Path("/etc/nsswitch.conf")


@dataclass
class SocketLog:
    """What reached the sockets under the guard, in order: (host, port) of each connect or
    send, and every name looked up."""

    reached: list[tuple[str, int]] = field(default_factory=list)
    lookups: list[str] = field(default_factory=list)


def _resolver_reads_hosts_first() -> bool:
    """True when the C library answers from /etc/hosts before asking anyone else."""
    try:
        lines = NSSWITCH.read_text().splitlines()
    except OSError:
        return False  # glibc's default without the file asks DNS first
    for line in lines:
        database, _colon, sources = line.partition(":")
        if database.strip() == "hosts":
            return sources.split()[:1] == ["files"]
    return False


def hosts_file_names() -> dict[str, set[str]]:
    """The addresses /etc/hosts gives each name, when the resolver reads it first (else none:
    looking a name up could then ask a DNS server)."""
    if not _resolver_reads_hosts_first():
        return {}
    names: dict[str, set[str]] = {}
    for line in HOSTS.read_text().splitlines():
        address, *aliases = line.partition("#")[0].split() or [""]
        for name in aliases:
            names.setdefault(name.lower(), set()).add(address)
    return names


def loopback_names() -> list[tuple[str, str]]:
    """Names of /etc/hosts besides ``localhost`` that mean only loopback, with one address."""
    return sorted(
        (name, sorted(addresses)[0])
        for name, addresses in hosts_file_names().items()
        if name != "localhost" and all(is_loopback(address) for address in addresses)
    )


def _is_literal(name: str) -> bool:
    try:
        ipaddress.ip_address(name.split("%", 1)[0])
    except ValueError:
        try:  # the forms inet_aton reads (2130706433, 0x7f.1): parsed here, never queried
            socket.inet_aton(name)
        except OSError:
            return False
    return True


def install_delivery_tripwire(monkeypatch: pytest.MonkeyPatch) -> SocketLog:
    """Record every connect, send and lookup under the delivery guard; keep them local."""
    log = SocketLog()
    local_names = set(hosts_file_names()) | {"localhost"}
    real = {
        name: getattr(delivery_guard, name)
        for name in ("_real_connect", "_real_connect_ex", "_real_sendto", "_real_sendmsg")
    }

    def reach(address: Any) -> None:
        if not isinstance(address, tuple):
            raise OSError(errno.EAFNOSUPPORT, "tripwire: only IP sockets in alert tests")
        host, port = str(address[0]), int(address[1])
        log.reached.append((host, port))
        if not is_loopback(host):
            raise OSError(errno.ENETUNREACH, "tripwire: off loopback, refused by the test")

    def connect(sock: socket.socket, address: Any) -> None:
        reach(address)
        real["_real_connect"](sock, address)

    def connect_ex(sock: socket.socket, address: Any) -> int:
        reach(address)
        return int(real["_real_connect_ex"](sock, address))

    def sendto(sock: socket.socket, data: Any, *args: Any) -> int:
        reach(args[-1])
        return int(real["_real_sendto"](sock, data, *args))

    def sendmsg(sock: socket.socket, buffers: Any, *args: Any) -> int:
        if len(args) >= 3 and args[2] is not None:
            reach(args[2])
        return int(real["_real_sendmsg"](sock, buffers, *args))

    real_getaddrinfo = delivery_guard._real_getaddrinfo

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else str(host)
        log.lookups.append(name)
        if name.lower() not in local_names and not _is_literal(name):
            raise socket.gaierror(socket.EAI_NONAME, "tripwire: only local names are resolved")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(delivery_guard, "_real_connect", connect)
    monkeypatch.setattr(delivery_guard, "_real_connect_ex", connect_ex)
    monkeypatch.setattr(delivery_guard, "_real_sendto", sendto)
    monkeypatch.setattr(delivery_guard, "_real_sendmsg", sendmsg)
    monkeypatch.setattr(delivery_guard, "_real_getaddrinfo", getaddrinfo)
    return log
